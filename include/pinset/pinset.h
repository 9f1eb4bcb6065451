/*
 * pinset/pinset.h - umbrella header: includes every stable public header
 * except openssl.h (which pulls in OpenSSL's headers; include it yourself).
 */
#ifndef PINSET_PINSET_H
#define PINSET_PINSET_H

#include <pinset/bundle.h>
#include <pinset/common.h>
#include <pinset/error.h>
#include <pinset/host.h>
#include <pinset/pin.h>
#include <pinset/policy.h>
#include <pinset/version.h>

#endif /* PINSET_PINSET_H */
