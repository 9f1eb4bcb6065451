/*
 * envoy.c - Envoy's validation_context as YAML (libyaml), written from the
 * one model. Not written yet: refuses.
 */
#include "xf.h"

pinset_err xf_envoy_export(pinset_fidelity *f, const pinset_policy *p,
                           const pinset_convert_options *opts, struct pinset__buf *out,
                           pinset_diag *diag)
{
    (void)f, (void)p, (void)opts, (void)out;
    return PINSET_DIAG(diag, PINSET_E_UNSUPPORTED, "envoy: not supported yet");
}
