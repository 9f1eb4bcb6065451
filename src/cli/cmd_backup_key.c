/*
 * cmd_backup_key.c - `pinset backup-key new`: the spare key pair that RFC 7469
 * section 4.3 asks for, made once and kept offline.
 *
 * It writes, in DIR, NAME.key.pem (the private key, PKCS#8, mode 0600),
 * NAME.pub.pem (its public key) and NAME.csr.pem (a CSR for the day the key
 * goes live), each created with O_EXCL: an existing file is never
 * overwritten, and a run that fails removes what it created. It prints the
 * key's spki pin and a policy entry with role backup, ready to paste into a
 * rule or pin-set (`pinset lint` then stops asking for a backup pin).
 */
#define _POSIX_C_SOURCE 200809L /* unlink, strtok_r */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <pinset/openssl.h>

#include "cmd.h"
#include "common.h"
#include "keyfile.h"
#include "out.h"

enum { O_OUT, O_TYPE, O_NAME, O_SUBJECT, O_LABEL, O_FORMAT, O_END };

static const opt_spec backup_opts[] = {
    [O_OUT] = {"out", 'o', "DIR", "the directory for the key, public key and CSR; required"},
    [O_TYPE] = {"type", 't', "TYPE", "ec-p256 (default), ec-p384, rsa-2048, rsa-3072 or rsa-4096"},
    [O_NAME] = {"name", 'n', "NAME",
                "file names NAME.key.pem, NAME.pub.pem, NAME.csr.pem (backup)"},
    [O_SUBJECT] = {"subject", 's', "DN",
                   "the CSR's subject, as /CN=example.com (default /CN=backup)"},
    [O_LABEL] = {"label", 'l', "TEXT", "the pin's label in the policy entry"},
    [O_FORMAT] = {"format", 'f', "FORMAT", "text (default) or json"},
    [O_END] = {NULL, 0, NULL, NULL},
};

const cmd_spec cmd_backup_key_spec = {
    "backup-key", "new --out DIR [options]",
    "Make a spare key pair and CSR to keep offline, and print its backup pin.", backup_opts};

typedef struct key_type {
    const char *name;
    int rsa_bits; /* 0: EC */
    const char *curve;
} key_type;

static const key_type key_types[] = {
    {"ec-p256", 0, "P-256"},  {"ec-p384", 0, "P-384"},  {"rsa-2048", 2048, NULL},
    {"rsa-3072", 3072, NULL}, {"rsa-4096", 4096, NULL}, {NULL, 0, NULL},
};

typedef struct backup_args {
    const char *dir;
    const key_type *type;
    const char *name;
    const char *subject;
    const char *label;
    int json;
} backup_args;

/* The files one run creates, removed again if the run fails. */
typedef struct made_files {
    char path[3][4096];
    int made[3];
} made_files;

enum { F_KEY, F_PUB, F_CSR };
#define EXISTS_HINT " (a key is never overwritten: choose another --name or --out)"
static const char *const file_suffix[] = {".key.pem", ".pub.pem", ".csr.pem"};

static void unmake(made_files *m)
{
    for (int i = 0; i < 3; i++) {
        if (m->made[i]) {
            (void)unlink(m->path[i]);
            m->made[i] = 0;
        }
    }
}

static EVP_PKEY *generate(const key_type *t)
{
    if (t->rsa_bits != 0) {
        return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)t->rsa_bits);
    }
    return EVP_PKEY_Q_keygen(NULL, NULL, "EC", t->curve);
}

/* The subject's shape, before any key is made: /NAME=VALUE, each part non-empty. 0 or -1. */
static int subject_ok(const char *subject)
{
    const char *p = subject;

    if (p[0] != '/' || strlen(p) >= 1024) {
        return -1;
    }
    while (*p == '/') {
        const char *end = strchr(p + 1, '/'), *eq;
        size_t n = end != NULL ? (size_t)(end - p - 1) : strlen(p + 1);
        eq = memchr(p + 1, '=', n);
        if (n == 0 || eq == NULL || eq == p + 1 || eq == p + n) {
            return -1; /* an empty part (//), no '=', no name or no value */
        }
        p += n + 1;
    }
    return *p == '\0' ? 0 : -1;
}

/* A CSR for `key` with the subject "/CN=x/O=y" (OpenSSL's -subj form). */
static X509_REQ *make_csr(EVP_PKEY *key, const char *subject)
{
    X509_REQ *req = X509_REQ_new();
    X509_NAME *dn = X509_NAME_new();
    char buf[1024];
    char *save = NULL, *part;
    int ok = req != NULL && dn != NULL && subject[0] == '/' && strlen(subject) < sizeof(buf);

    if (ok) {
        memcpy(buf, subject + 1, strlen(subject));
    }
    for (part = ok ? strtok_r(buf, "/", &save) : NULL; ok && part != NULL;
         part = strtok_r(NULL, "/", &save)) {
        char *eq = strchr(part, '=');
        ok = eq != NULL && eq != part && eq[1] != '\0';
        if (ok) {
            *eq = '\0';
            ok = X509_NAME_add_entry_by_txt(dn, part, MBSTRING_UTF8,
                                            (const unsigned char *)(eq + 1), -1, -1, 0) == 1;
        }
    }
    ok = ok && X509_NAME_entry_count(dn) > 0 && X509_REQ_set_version(req, 0) == 1 &&
         X509_REQ_set_subject_name(req, dn) == 1 && X509_REQ_set_pubkey(req, key) == 1 &&
         X509_REQ_sign(req, key, EVP_sha256()) > 0;
    X509_NAME_free(dn);
    if (!ok) {
        X509_REQ_free(req);
        return NULL;
    }
    return req;
}

static int print_result(const backup_args *a, const made_files *m, const char *pin,
                        const char *label)
{
    if (a->json) {
        json_t *doc = json_object(), *entry = json_object();
        int bad = doc == NULL || entry == NULL;

        bad = bad || out_json_set(doc, "type", json_string(a->type->name)) ||
              out_json_set(doc, "private_key", out_json_str(m->path[F_KEY])) ||
              out_json_set(doc, "public_key", out_json_str(m->path[F_PUB])) ||
              out_json_set(doc, "csr", out_json_str(m->path[F_CSR])) ||
              out_json_set(doc, "spki_sha256", json_string(pin)) ||
              out_json_set(entry, "sha256", json_string(pin)) ||
              out_json_set(entry, "role", json_string("backup")) ||
              out_json_set(entry, "label", out_json_str(label)) ||
              out_json_set(doc, "policy_pin", json_incref(entry));
        json_decref(entry);
        bad = bad || out_json_dump(stdout, doc) != 0;
        json_decref(doc);
        return bad ? -1 : 0;
    }
    printf("private key: ");
    out_safe(stdout, m->path[F_KEY]);
    printf(" (mode 0600: move it offline)\npublic key:  ");
    out_safe(stdout, m->path[F_PUB]);
    printf("\ncsr:         ");
    out_safe(stdout, m->path[F_CSR]);
    printf("\npin:         %s (spki, %s)\n\nadd to the rule or pin-set's \"pins\":\n", pin,
           a->type->name);
    {
        json_t *l = json_string(label); /* valid UTF-8: checked when the label was set */
        char *quoted = l != NULL ? json_dumps(l, JSON_ENCODE_ANY) : NULL;
        json_decref(l);
        if (quoted == NULL) {
            return -1;
        }
        printf("  {\"sha256\": \"%s\", \"role\": \"backup\", \"label\": %s}\n", pin, quoted);
        free(quoted);
    }
    return 0;
}

static int make_backup(const backup_args *a)
{
    made_files m;
    EVP_PKEY *key = NULL;
    X509_REQ *req = NULL;
    pinset_pin pin;
    char b64[PINSET_PIN_STR_MAX], label[257]; /* 256 octets and the NUL */
    FILE *f;
    int rc = EXIT_INTERNAL;

    memset(&m, 0, sizeof(m));
    for (int i = 0; i < 3; i++) {
        int w = snprintf(m.path[i], sizeof(m.path[i]), "%s/%s%s", a->dir, a->name, file_suffix[i]);
        if (w < 0 || (size_t)w >= sizeof(m.path[i])) {
            cli_err("backup-key", "--out and --name make too long a path");
            return EXIT_USAGE;
        }
    }
    if (subject_ok(a->subject) != 0) {
        char safe[256];
        out_safe_copy(safe, sizeof(safe), a->subject);
        cli_err("backup-key",
                "--subject '%s': expected /NAME=VALUE[/NAME=VALUE...], as /CN=example.com", safe);
        return EXIT_USAGE;
    }
    key = generate(a->type);
    if (key == NULL) {
        cli_err("backup-key", "cannot generate a %s key", a->type->name);
        goto out;
    }
    req = make_csr(key, a->subject);
    if (req == NULL) {
        char safe[256];
        out_safe_copy(safe, sizeof(safe), a->subject);
        cli_err("backup-key", "cannot make a CSR with the subject '%s'", safe);
        rc = EXIT_USAGE;
        goto out;
    }
    if (pinset_pin_from_pkey(&pin, key, NULL) != PINSET_OK ||
        pinset_pin_format(b64, sizeof(b64), &pin, PINSET_PIN_FMT_BASE64) != PINSET_OK) {
        cli_err("backup-key", "cannot compute the key's pin");
        goto out;
    }
    rc = EXIT_INPUT; /* from here on: the directory or a file in it */
    if ((f = keyfile_create("backup-key", m.path[F_KEY], 0600, EXISTS_HINT, &m.made[F_KEY])) ==
            NULL ||
        keyfile_finish("backup-key", f,
                       PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) == 1,
                       m.path[F_KEY]) != 0) {
        goto out;
    }
    if ((f = keyfile_create("backup-key", m.path[F_PUB], 0644, EXISTS_HINT, &m.made[F_PUB])) ==
            NULL ||
        keyfile_finish("backup-key", f, PEM_write_PUBKEY(f, key) == 1, m.path[F_PUB]) != 0) {
        goto out;
    }
    if ((f = keyfile_create("backup-key", m.path[F_CSR], 0644, EXISTS_HINT, &m.made[F_CSR])) ==
            NULL ||
        keyfile_finish("backup-key", f, PEM_write_X509_REQ(f, req) == 1, m.path[F_CSR]) != 0) {
        goto out;
    }
    if (a->label != NULL) {
        snprintf(label, sizeof(label), "%s", a->label);
    } else {
        char day[OUT_TIME_MAX];
        (void)out_time_iso(day, sizeof(day), (int64_t)time(NULL));
        snprintf(label, sizeof(label), "backup key made %.10s, kept offline", day);
    }
    /* the key pair is made and written: kept whatever happens to the output below */
    memset(&m.made, 0, sizeof(m.made));
    if (print_result(a, &m, b64, label) != 0 || fflush(stdout) != 0 || ferror(stdout)) {
        rc = cli_output_failed("backup-key");
        goto out;
    }
    rc = EXIT_OK;
out:
    unmake(&m);
    ERR_clear_error();
    X509_REQ_free(req);
    EVP_PKEY_free(key);
    return rc;
}

/* A label the policy format takes (docs/policy-format.md): 1 to 256 octets of UTF-8, no C0/DEL. */
static int label_ok(const char *s)
{
    size_t n = strlen(s);
    json_t *j;

    if (n == 0 || n > 256) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) {
            return 0;
        }
    }
    j = json_string(s); /* NULL when not valid UTF-8 */
    json_decref(j);
    return j != NULL;
}

int cmd_backup_key(int argc, char **argv)
{
    backup_args a = {NULL, &key_types[0], "backup", "/CN=backup", NULL, 0};
    opt_state st;
    const char *v;
    int r, have_verb = 0;

    opt_init(&st, argc, argv);
    while ((r = opt_next(&st, &cmd_backup_key_spec, &v)) != OPT_END) {
        switch (r) {
        case OPT_HELP:
            opt_print_help(&cmd_backup_key_spec);
            return EXIT_OK;
        case OPT_POSITIONAL:
            if (have_verb || strcmp(v, "new") != 0) {
                return opt_usage_error(&cmd_backup_key_spec,
                                       "unexpected argument '%s' (the one "
                                       "action is 'new')",
                                       v);
            }
            have_verb = 1;
            break;
        case O_OUT:
            a.dir = v;
            break;
        case O_TYPE:
            a.type = NULL;
            for (const key_type *t = key_types; t->name != NULL; t++) {
                if (strcmp(v, t->name) == 0) {
                    a.type = t;
                }
            }
            if (a.type == NULL) {
                return opt_usage_error(&cmd_backup_key_spec,
                                       "--type '%s': expected ec-p256, ec-p384, rsa-2048, "
                                       "rsa-3072 or rsa-4096",
                                       v);
            }
            break;
        case O_NAME:
            if (v[0] == '\0' || strchr(v, '/') != NULL || v[0] == '.') {
                return opt_usage_error(&cmd_backup_key_spec,
                                       "--name '%s': a file name, without '/' or a leading '.'", v);
            }
            a.name = v;
            break;
        case O_SUBJECT:
            a.subject = v;
            break;
        case O_LABEL:
            a.label = v;
            break;
        case O_FORMAT:
            if (strcmp(v, "text") != 0 && strcmp(v, "json") != 0) {
                return opt_usage_error(&cmd_backup_key_spec, "--format '%s': expected text or json",
                                       v);
            }
            a.json = strcmp(v, "json") == 0;
            break;
        default:
            return EXIT_USAGE;
        }
    }
    if (!have_verb) {
        return opt_usage_error(&cmd_backup_key_spec, "say what to do: 'pinset backup-key new'");
    }
    if (a.dir == NULL || a.dir[0] == '\0') {
        return opt_usage_error(&cmd_backup_key_spec, "--out DIR is required (not empty)");
    }
    if (a.label != NULL && !label_ok(a.label)) {
        return opt_usage_error(&cmd_backup_key_spec,
                               "--label: 1 to 256 octets of UTF-8 without control characters");
    }
    return make_backup(&a);
}
