#include <stdio.h>
#include "greet.h"

int greet_format(char *buf, size_t size, const char *who)
{
    return snprintf(buf, size, "Hello from libgreet, %s!", who);
}
