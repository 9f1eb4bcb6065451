/*
 * ct_pos.h - the CT logs' positions kept in the tool's store: a ct_store
 * (ct/state.h) on store.h's ct_pos_load / ct_pos_save, one row per log in the
 * table ct_positions (schema version 4), its value the position's text form
 * (ct_position_format), parsed with ct_position_parse when loaded.
 *
 * Several monitors sharing one PostgreSQL database share the rows: a save is
 * one upsert, so two monitors watching the same log never leave a torn row;
 * the last to commit wins (both verified the same log). A writer whose pass
 * started from an older position may put back a smaller one: the next pass
 * then fetches and checks those entries again (never skips any).
 */
#ifndef PINSET_STORE_CT_POS_H
#define PINSET_STORE_CT_POS_H

#include <stddef.h>
#include <store/store.h>

#include "ct/state.h"

/*
 * A ct_store on `db`, which must outlive it (its free does not close db).
 * 0, or -1 with err (db keeps no CT positions: store_ct_ready).
 */
int ct_store_db_open(ct_store **out, store *db, char *err, size_t errcap);

#endif /* PINSET_STORE_CT_POS_H */
