/*
 * fuzz_ledger: the exactly-once bookkeeping (src/ledger.h) driven by the
 * model of tests/ledger_model.h, the same driver as tests/test_ledger.c,
 * with the input bytes making every choice: the world (games, time
 * formats, hold size), then each step (new rounds, live deliveries,
 * pages that arrive, fail or come in pieces, disconnects, reconnects
 * with a list, outages, restarts).  When the bytes run out the final
 * phase runs (connected to every game, REST always works) and every
 * round the ledger could know must have been handled exactly once, then
 * a restart must print nothing.  Any violated check prints the model's
 * report and aborts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "tsino.h"
#include "ledger.h"
#include "../tests/ledger_model.h"

#define STEPS_MAX 100000

static struct lm model;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	lm_init(&model, 0, data, size);
	lm_run(&model, STEPS_MAX);
	if (model.failed) {
		lm_report(&model, stderr);
		abort();
	}
	lm_free(&model);
	return 0;
}
