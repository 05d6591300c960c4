#ifndef GREET_H
#define GREET_H

#include <stddef.h>

/* Writes "Hello from libgreet, <who>!" into buf; returns the length written. */
int greet_format(char *buf, size_t size, const char *who);

#endif
