#include <stdio.h>
#include <stdlib.h>

/* Counts the primes below N; the workload runs it, so the profile knows the hot loop. */
static int is_prime(long n) {
    if (n < 2) return 0;
    for (long d = 2; d * d <= n; d++)
        if (n % d == 0) return 0;
    return 1;
}

int main(int argc, char **argv) {
    long limit = argc > 1 ? atol(argv[1]) : 1000;
    long count = 0;
    for (long n = 0; n < limit; n++)
        count += is_prime(n);
    printf("%ld\n", count);
    return 0;
}
