/*
 * pinset/version.h - compile-time and run-time version information.
 */
#ifndef PINSET_VERSION_H
#define PINSET_VERSION_H

#include <pinset/common.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PINSET_VERSION_MAJOR  0
#define PINSET_VERSION_MINOR  1
#define PINSET_VERSION_PATCH  0
#define PINSET_VERSION_STRING "0.1.0"
/** 0xMMmmpp */
#define PINSET_VERSION_NUMBER \
    ((PINSET_VERSION_MAJOR << 16) | (PINSET_VERSION_MINOR << 8) | PINSET_VERSION_PATCH)
/** True when the headers are at least version x.y.z. */
#define PINSET_VERSION_AT_LEAST(x, y, z) (PINSET_VERSION_NUMBER >= (((x) << 16) | ((y) << 8) | (z)))

/**
 * The version of the library actually linked, e.g. "0.1.0".
 *
 * @return a static string, never NULL
 * Thread-safety: safe.
 */
PINSET_API const char *pinset_version(void);

/**
 * The version number of the library actually linked, as PINSET_VERSION_NUMBER.
 *
 * @return 0xMMmmpp
 * Thread-safety: safe.
 */
PINSET_API unsigned int pinset_version_number(void);

#ifdef __cplusplus
}
#endif

#endif /* PINSET_VERSION_H */
