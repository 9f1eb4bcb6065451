/*
 * formats.c - libpinset-formats' entry points (pinset/formats.h): the
 * formats of this library go to their files, every other format to
 * libpinset's pinset_policy_import / pinset_policy_export.
 */

#include "xf.h"

static const pinset_convert_options default_opts = PINSET_CONVERT_OPTIONS_INIT;

/* Whether this library, not libpinset, converts the format. */
static int ours(pinset_format format)
{
    return format == PINSET_FORMAT_ANDROID || format == PINSET_FORMAT_TRUSTKIT_PLIST ||
           format == PINSET_FORMAT_ATS || format == PINSET_FORMAT_ENVOY;
}

/* Check the options as libpinset does; *opts replaced by the defaults when NULL. */
static pinset_err check_opts(const pinset_convert_options **opts, pinset_diag *diag)
{
    if (*opts == NULL) {
        *opts = &default_opts;
    }
    if ((*opts)->version != PINSET_CONVERT_OPTIONS_VERSION || (*opts)->now < 0 ||
        (*opts)->now > 253402300799LL || (*opts)->max_age < 0) {
        return PINSET_DIAG(diag, PINSET_E_INVALID_ARG,
                           "invalid convert options (version %u, or now outside 1970 to 9999)",
                           (*opts)->version);
    }
    return PINSET_OK;
}

pinset_err pinset_formats_import(pinset_policy **out, pinset_fidelity **fidelity_out,
                                 const uint8_t *buf, size_t len, pinset_format format,
                                 const pinset_convert_options *opts, pinset_diag *diag)
{
    pinset_fidelity *f = NULL;
    pinset_err err;

    if (!ours(format)) {
        return pinset_policy_import(out, fidelity_out, buf, len, format, opts, diag);
    }
    if (fidelity_out != NULL) {
        *fidelity_out = NULL;
    }
    if (out == NULL) {
        return PINSET_DIAG(diag, PINSET_E_INVALID_ARG, "no place for the policy");
    }
    *out = NULL;
    if (buf == NULL && len > 0) {
        return PINSET_DIAG(diag, PINSET_E_INVALID_ARG, "no document");
    }
    if (len > XF_MAX_DOC) {
        return PINSET_DIAG(diag, PINSET_E_LIMIT, "document of %zu octets: over the %zu limit", len,
                           XF_MAX_DOC);
    }
    err = check_opts(&opts, diag);
    if (err != PINSET_OK) {
        return err;
    }
    err = pinset_fidelity_new(&f);
    if (err != PINSET_OK) {
        return PINSET_DIAG(diag, err, "out of memory");
    }
    if (format == PINSET_FORMAT_ANDROID) {
        err = xf_android_import(out, f, buf, len, opts, diag);
    } else if (format == PINSET_FORMAT_ENVOY) {
        err = PINSET_DIAG(diag, PINSET_E_UNSUPPORTED,
                          "envoy is written only: pinset reads no Envoy configuration");
    } else {
        err = xf_plist_import(out, f, format, buf, len, opts, diag);
    }
    if (err != PINSET_OK && *out != NULL) {
        pinset_policy_free(*out);
        *out = NULL;
    }
    if (err != PINSET_OK || fidelity_out == NULL) {
        pinset_fidelity_free(f);
        return err;
    }
    *fidelity_out = f;
    return PINSET_OK;
}

pinset_err pinset_formats_export(pinset_fidelity **fidelity_out, const pinset_policy *policy,
                                 pinset_format format, const pinset_convert_options *opts,
                                 pinset_write_fn write, void *payload, pinset_diag *diag)
{
    pinset_fidelity *f = NULL;
    struct pinset__buf b;
    pinset_err err;

    if (!ours(format)) {
        return pinset_policy_export(fidelity_out, policy, format, opts, write, payload, diag);
    }
    if (fidelity_out != NULL) {
        *fidelity_out = NULL;
    }
    if (policy == NULL || write == NULL) {
        return PINSET_DIAG(diag, PINSET_E_INVALID_ARG, "no policy or no sink");
    }
    err = check_opts(&opts, diag);
    if (err != PINSET_OK) {
        return err;
    }
    err = pinset_fidelity_new(&f);
    if (err != PINSET_OK) {
        return PINSET_DIAG(diag, err, "out of memory");
    }
    /* built whole, so that a failure writes nothing */
    pinset__buf_init(&b, XF_MAX_DOC, 0);
    if (format == PINSET_FORMAT_ANDROID) {
        err = xf_android_export(f, policy, opts, &b, diag);
    } else if (format == PINSET_FORMAT_ENVOY) {
        err = xf_envoy_export(f, policy, opts, &b, diag);
    } else {
        err = xf_plist_export(f, policy, format, opts, &b, diag);
    }
    if (err == PINSET_OK) {
        err = pinset__emit(write, payload, (const char *)b.p, b.len);
    }
    pinset__buf_free(&b);
    if (err == PINSET_E_NOMEM && diag != NULL && diag->code == PINSET_OK) {
        (void)PINSET_DIAG(diag, err, "out of memory");
    }
    if (err != PINSET_OK || fidelity_out == NULL) {
        pinset_fidelity_free(f);
        return err;
    }
    *fidelity_out = f;
    return PINSET_OK;
}
