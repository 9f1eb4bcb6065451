/*
 * pinset/formats.h - libpinset-formats: the pin formats that need a markup
 * library.
 *
 * Android's Network Security Config (XML, read with expat), TrustKit's and
 * Apple ATS's property lists (XML and binary, libplist) and Envoy's YAML
 * (written with libyaml) live in their own library, so that an application
 * that only pins links none of those (libpinset needs OpenSSL, jansson,
 * libidn2 and libpsl only). Link with `pkg-config --libs pinset-formats` or
 * CMake's find_package(pinset COMPONENTS formats) and pinset::formats.
 * libpinset-formats uses only libpinset's public API.
 *
 * pinset_formats_import and pinset_formats_export take every pinset_format
 * (convert.h): PINSET_FORMAT_ANDROID, _TRUSTKIT_PLIST, _ATS and _ENVOY are
 * done here; every other format is passed on to pinset_policy_import or
 * pinset_policy_export with the same arguments. Results, fidelity lists and
 * diagnostics are those of convert.h. Detection is pinset_format_detect.
 */
#ifndef PINSET_FORMATS_H
#define PINSET_FORMATS_H

#include <pinset/common.h>
#include <pinset/convert.h>
#include <pinset/error.h>
#include <pinset/policy.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Read a document in any format into a policy: pinset_policy_import, plus
 * the formats of this library. ENVOY is written only (PINSET_E_UNSUPPORTED).
 * External entities, DTDs and entity expansion in XML are refused; property
 * lists are read by libplist, XML or binary.
 *
 * @param out          receives the policy (reference count 1); NULL on failure
 * @param fidelity_out receives the fidelity list; NULL on failure; may be NULL
 * @param buf,len      the document
 * @param format       its format (PINSET_FORMAT_UNKNOWN is refused)
 * @param opts         options, or NULL for the defaults
 * @param diag         optional: the reason, and where (line and column for
 *                     XML, the key path for property lists)
 * @return as pinset_policy_import
 * Ownership: release the policy with pinset_policy_free and the list with
 *            pinset_fidelity_free. The input is not retained.
 * Thread-safety: safe.
 */
PINSET_API PINSET_MUST_CHECK pinset_err pinset_formats_import(
    pinset_policy **out, pinset_fidelity **fidelity_out, const uint8_t *buf, size_t len,
    pinset_format format, const pinset_convert_options *opts, pinset_diag *diag);

/**
 * Write a policy in any format: pinset_policy_export, plus the formats of
 * this library. ANDROID writes one `<network-security-config>`; TRUSTKIT_PLIST
 * and ATS an XML property list; ENVOY one `validation_context` per rule
 * (only opts->host's rule when given).
 *
 * @return as pinset_policy_export
 * Ownership: release the list with pinset_fidelity_free.
 * Thread-safety: safe.
 */
PINSET_API PINSET_MUST_CHECK pinset_err pinset_formats_export(
    pinset_fidelity **fidelity_out, const pinset_policy *policy, pinset_format format,
    const pinset_convert_options *opts, pinset_write_fn write, void *payload, pinset_diag *diag);

#ifdef __cplusplus
}
#endif

#endif /* PINSET_FORMATS_H */
