/*
 * alert.h - delivering the monitor's alerts (docs/monitor.md): each alert is
 * one JSON document, given to every sink that the configuration names:
 *   webhook  POSTed with libcurl (Content-Type: application/json); a
 *            transport error or a non-2xx status is a failure, which the
 *            outbox (outbox.c) tries again after a backoff;
 *   command  run with fork/exec, the document on its standard input (written
 *            with poll(2) under the timeout), killed and reaped after it;
 *   jsonl    appended as one line with a single write(2) on an O_APPEND file.
 */
#ifndef PINSET_MONITOR_ALERT_H
#define PINSET_MONITOR_ALERT_H

#include <monitor/config.h>
#include <stdatomic.h>
#include <stddef.h>

/* The sinks (bits of store_mon_alert.pending, kept in the store: never renumber). */
#define MON_SINK_JSONL   1
#define MON_SINK_COMMAND 2
#define MON_SINK_WEBHOOK 4

/* The sinks that cfg configures. */
int mon_alert_sinks(const mon_config *cfg);
/*
 * One attempt at one sink (a MON_SINK_* bit; the webhook is not retried here: the outbox does
 * it, outbox.c). A webhook transfer in flight is aborted once *stop (when not NULL) is set.
 * 0 taken, or -1 (reported on stderr as "pinset: monitor: ...", unless stopped).
 */
int mon_alert_try(const mon_config *cfg, const char *json, int sink, atomic_int *stop);
/* One attempt at every sink configured. 0, or the number of sinks that failed. */
int mon_alert_deliver(const mon_config *cfg, const char *json);

#endif /* PINSET_MONITOR_ALERT_H */
