/*
 * alert.h - delivering the monitor's alerts (docs/monitor.md): each alert is
 * one JSON document, given to every sink that the configuration names:
 *   webhook  POSTed with libcurl (Content-Type: application/json), retried
 *            with exponential backoff on a transport error or a non-2xx status;
 *   command  run with fork/exec, the document on its standard input (written
 *            with poll(2) under the timeout), killed and reaped after it;
 *   jsonl    appended as one line with a single write(2) on an O_APPEND file.
 */
#ifndef PINSET_MONITOR_ALERT_H
#define PINSET_MONITOR_ALERT_H

#include <monitor/config.h>
#include <stddef.h>

/* Deliver one alert (its JSON text, one line) to every sink. 0, or the number of sinks that failed
   (each reported on stderr as "pinset: monitor: ..."). */
int mon_alert_deliver(const mon_config *cfg, const char *json);

#endif /* PINSET_MONITOR_ALERT_H */
