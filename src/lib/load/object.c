/*
 * object.c - the pinset_object_* getters of pinset/bundle.h (type, pins,
 * names, key description, validity, DER).
 */
#include <string.h>

#include <openssl/err.h>

#include <pinset/bundle.h>
#include <pinset/openssl.h>

#include "load/load_int.h"
#include "util/digest.h"

pinset_object_type pinset_object_get_type(const pinset_object *obj)
{
    return obj != NULL ? obj->type : (pinset_object_type)0;
}

pinset_err pinset_object_pin(pinset_pin *out, const pinset_object *obj, pinset_pin_kind kind)
{
    pinset_pin pin;
    int ok;

    if (out == NULL || obj == NULL || (kind != PINSET_PIN_SPKI && kind != PINSET_PIN_CERT)) {
        return PINSET_E_INVALID_ARG;
    }
    if (kind == PINSET_PIN_CERT && obj->type != PINSET_OBJ_CERT) {
        return PINSET_E_UNSUPPORTED;
    }
    if (obj->x509 != NULL) {
        return pinset_pin_from_x509(out, obj->x509, kind, NULL);
    }
    /*
     * Keys and CSRs hold the SPKI that OpenSSL encoded; a certificate loaded
     * with PINSET_LOAD_PINS_ONLY holds the span the strict walker located
     * (byte-identical to i2d_X509_PUBKEY's output wherever it accepts, see
     * der.c). Either way the span is hashed as it is: decoding the key again
     * would cost as much as the full certificate parse the fast path avoids.
     */
    memset(&pin, 0, sizeof(pin));
    pin.kind = kind;
    ERR_set_mark();
    if (kind == PINSET_PIN_SPKI) {
        ok = pinset__sha256(pin.sha256, obj->der + obj->spki_off, obj->spki_len, NULL, NULL);
    } else {
        ok = pinset__sha256(pin.sha256, obj->der, obj->der_len, NULL, NULL);
    }
    ERR_pop_to_mark();
    if (!ok) {
        return PINSET_E_CRYPTO;
    }
    *out = pin;
    return PINSET_OK;
}

const char *pinset_object_subject(const pinset_object *obj)
{
    return obj != NULL ? obj->subject : NULL;
}

const char *pinset_object_issuer(const pinset_object *obj)
{
    return obj != NULL ? obj->issuer : NULL;
}

const char *pinset_object_key_type(const pinset_object *obj)
{
    return obj != NULL ? obj->key_type : NULL;
}

const char *pinset_object_key_group(const pinset_object *obj)
{
    return obj != NULL && obj->key_group[0] != '\0' ? obj->key_group : NULL;
}

unsigned int pinset_object_key_bits(const pinset_object *obj)
{
    return obj != NULL ? obj->key_bits : 0;
}

int pinset_object_is_ca(const pinset_object *obj)
{
    return obj != NULL && obj->is_ca;
}

pinset_err pinset_object_validity(const pinset_object *obj, int64_t *not_before_out,
                                  int64_t *not_after_out)
{
    if (obj == NULL) {
        return PINSET_E_INVALID_ARG;
    }
    if (!obj->has_validity) {
        return PINSET_E_UNSUPPORTED;
    }
    if (not_before_out != NULL) {
        *not_before_out = obj->not_before;
    }
    if (not_after_out != NULL) {
        *not_after_out = obj->not_after;
    }
    return PINSET_OK;
}

const uint8_t *pinset_object_der(const pinset_object *obj, size_t *len_out)
{
    if (obj == NULL) {
        if (len_out != NULL) {
            *len_out = 0;
        }
        return NULL;
    }
    if (len_out != NULL) {
        *len_out = obj->der_len;
    }
    return obj->der;
}
