/*
 * xf.h - libpinset-formats' internals: one file per format (android.c,
 * plist.c, envoy.c) and the helpers they share (xf.c). The library is built
 * on libpinset's public API only: an importer builds a native document
 * (docs/policy-format.md) with jansson and xf_finish parses it with
 * pinset_policy_parse, so that every policy passes the one native parser;
 * an exporter reads the policy through policy.h's getters.
 */
#ifndef PINSET_XF_H
#define PINSET_XF_H

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <pinset/convert.h>
#include <pinset/formats.h>

#include "util/buf.h"
#include "util/diag.h"

/* PINSET_ASSERT, PINSET_ARRAY_SIZE and the banned-function poison (after all system includes) */
#include "util/base.h"

/* The largest document this library reads or writes, in octets. */
#define XF_MAX_DOC ((size_t)256 * 1024 * 1024)

/*
 * Finish an import: *out from `doc`, a native document the importer built
 * (the reference is not taken). A refusal by the native parser (an importer's
 * bug, or a limit) fills diag with the parser's reason and path and no line,
 * since the lines are those of the generated text, not of the input.
 */
pinset_err xf_finish(pinset_policy **out, json_t *doc, pinset_diag *diag);

/*
 * The formats. An import fills *out and may add to f; an export appends the
 * whole document to out (written to the caller's sink only when complete)
 * and may add to f. Each fills diag on failure.
 */
pinset_err xf_android_import(pinset_policy **out, pinset_fidelity *f, const uint8_t *buf,
                             size_t len, const pinset_convert_options *opts, pinset_diag *diag);
pinset_err xf_android_export(pinset_fidelity *f, const pinset_policy *p,
                             const pinset_convert_options *opts, struct pinset__buf *out,
                             pinset_diag *diag);
/* format: PINSET_FORMAT_TRUSTKIT_PLIST or PINSET_FORMAT_ATS */
pinset_err xf_plist_import(pinset_policy **out, pinset_fidelity *f, pinset_format format,
                           const uint8_t *buf, size_t len, const pinset_convert_options *opts,
                           pinset_diag *diag);
pinset_err xf_plist_export(pinset_fidelity *f, const pinset_policy *p, pinset_format format,
                           const pinset_convert_options *opts, struct pinset__buf *out,
                           pinset_diag *diag);
pinset_err xf_envoy_export(pinset_fidelity *f, const pinset_policy *p,
                           const pinset_convert_options *opts, struct pinset__buf *out,
                           pinset_diag *diag);

#endif /* PINSET_XF_H */
