#include <stdio.h>
#include <string.h>
#include <time.h>

/* Prints one line of the sayings file, picked by the current time. */
int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : "/usr/share/fortune-lite/sayings.txt";
    FILE *f = fopen(path, "r");
    char lines[64][256];
    int count = 0;

    if (!f) {
        perror(path);
        return 1;
    }
    while (count < 64 && fgets(lines[count], sizeof lines[count], f))
        count++;
    fclose(f);
    if (count == 0)
        return 1;
    fputs(lines[time(NULL) % count], stdout);
    return 0;
}
