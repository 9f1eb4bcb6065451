/*
 * plist.c - TrustKit's TSKConfiguration and Apple ATS's NSPinnedDomains in
 * property lists (libplist), in and out of the one model. Not written yet:
 * both directions refuse.
 */
#include "xf.h"

pinset_err xf_plist_import(pinset_policy **out, pinset_fidelity *f, pinset_format format,
                           const uint8_t *buf, size_t len, const pinset_convert_options *opts,
                           pinset_diag *diag)
{
    (void)out, (void)f, (void)buf, (void)len, (void)opts;
    return PINSET_DIAG(diag, PINSET_E_UNSUPPORTED, "%s: not supported yet",
                       pinset_format_name(format));
}

pinset_err xf_plist_export(pinset_fidelity *f, const pinset_policy *p, pinset_format format,
                           const pinset_convert_options *opts, struct pinset__buf *out,
                           pinset_diag *diag)
{
    (void)f, (void)p, (void)opts, (void)out;
    return PINSET_DIAG(diag, PINSET_E_UNSUPPORTED, "%s: not supported yet",
                       pinset_format_name(format));
}
