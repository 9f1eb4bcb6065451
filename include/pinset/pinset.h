/*
 * pinset/pinset.h - umbrella header: includes every stable public header
 * except openssl.h and curl.h (which pull in OpenSSL's and libcurl's headers;
 * include them yourself).
 */
#ifndef PINSET_PINSET_H
#define PINSET_PINSET_H

#include <pinset/bundle.h>
#include <pinset/check.h>
#include <pinset/common.h>
#include <pinset/convert.h>
#include <pinset/error.h>
#include <pinset/host.h>
#include <pinset/lint.h>
#include <pinset/pin.h>
#include <pinset/policy.h>
#include <pinset/report.h>
#include <pinset/update.h>
#include <pinset/version.h>

#endif /* PINSET_PINSET_H */
