/*
 * fuzz_pin.c - fuzz target for pin text.
 *
 * Target functions: pinset_pin_parse, pinset_pin_parse_list, pinset_pin_format.
 * Properties checked (abort on violation): a failed parse reports its code in
 * the diag with a non-empty message; every pin that parses, alone or from a
 * list, formats in all six forms, and each formatted text re-parses to the
 * same pin (kind and digest).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <pinset/pin.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void round_trip(const pinset_pin *pin)
{
    for (int fmt = PINSET_PIN_FMT_BASE64; fmt <= PINSET_PIN_FMT_HEX_COLON; fmt++) {
        char buf[PINSET_PIN_STR_MAX];
        pinset_pin again;

        if (pinset_pin_format(buf, sizeof(buf), pin, (pinset_pin_fmt)fmt) != PINSET_OK) {
            abort();
        }
        if (pinset_pin_parse(&again, buf, strlen(buf), pin->kind, NULL) != PINSET_OK) {
            abort();
        }
        if (!pinset_pin_equal(pin, &again)) {
            abort();
        }
    }
}

static void check_diag(pinset_err err, const pinset_diag *diag)
{
    if (diag->code != err || diag->message[0] == '\0') {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    pinset_diag diag = PINSET_DIAG_INIT;
    pinset_pin pins[8];
    size_t count = 0;
    pinset_err err;

    err = pinset_pin_parse(&pins[0], text, size, PINSET_PIN_SPKI, &diag);
    if (err == PINSET_OK) {
        round_trip(&pins[0]);
    } else {
        check_diag(err, &diag);
    }

    pinset_diag_init(&diag);
    err = pinset_pin_parse_list(pins, 8, &count, text, size, PINSET_PIN_CERT, &diag);
    if (err == PINSET_OK || err == PINSET_E_BUFFER_TOO_SMALL) {
        if (count == 0 || (err == PINSET_OK && count > 8)) {
            abort();
        }
        for (size_t i = 0; i < count && i < 8; i++) {
            round_trip(&pins[i]);
        }
    }
    if (err != PINSET_OK) {
        check_diag(err, &diag);
    }
    return 0;
}
