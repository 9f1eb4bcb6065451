/*
 * android.c - Android Network Security Config (XML, expat) in and out of the
 * one model. Not written yet: both directions refuse.
 */
#include "xf.h"

pinset_err xf_android_import(pinset_policy **out, pinset_fidelity *f, const uint8_t *buf,
                             size_t len, const pinset_convert_options *opts, pinset_diag *diag)
{
    (void)out, (void)f, (void)buf, (void)len, (void)opts;
    return PINSET_DIAG(diag, PINSET_E_UNSUPPORTED, "android: not supported yet");
}

pinset_err xf_android_export(pinset_fidelity *f, const pinset_policy *p,
                             const pinset_convert_options *opts, struct pinset__buf *out,
                             pinset_diag *diag)
{
    (void)f, (void)p, (void)opts, (void)out;
    return PINSET_DIAG(diag, PINSET_E_UNSUPPORTED, "android: not supported yet");
}
