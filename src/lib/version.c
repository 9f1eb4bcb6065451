/*
 * version.c - the linked library's version.
 */
#include <pinset/version.h>

const char *pinset_version(void)
{
    return PINSET_VERSION_STRING;
}

unsigned int pinset_version_number(void)
{
    return PINSET_VERSION_NUMBER;
}
