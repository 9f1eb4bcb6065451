/*
 * base.h - what every file of the utility layer (src/util) and of the library
 * shares: the debug assertion, the array-size macro and the banned-function
 * poison. Include it last, after all system headers. Internal; not installed.
 */
#ifndef PINSET_UTIL_BASE_H
#define PINSET_UTIL_BASE_H

#ifndef NDEBUG
#include <assert.h>
#define PINSET_ASSERT(x) assert(x)
#else
#define PINSET_ASSERT(x) ((void)0)
#endif

#define PINSET_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- banned functions (after all system includes) [curl checksrc] ---- */
/* clang with _FORTIFY_SOURCE defines some of these as macros: poisoning those is an error there;
 * gcc builds (and tests/checks/banned_functions.sh) still catch every use. */
#if defined(__GNUC__) && !defined(PINSET_NO_POISON) && \
    !(defined(__clang__) && defined(_FORTIFY_SOURCE))
#pragma GCC poison strcpy strcat sprintf vsprintf gets strtok atoi atol strncpy sscanf
#endif

#endif /* PINSET_UTIL_BASE_H */
