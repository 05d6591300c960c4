#include <stdio.h>

int main(void)
{
    puts("stopped at a breakpoint and carried on");
    return 0;
}
