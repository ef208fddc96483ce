/* Unit tests for the last-use batch (patd/lastuse.c). */
#include <criterion/criterion.h>

#include "lastuse.h"

static struct lastuse_batch b;	/* 44 KiB: not on the stack */

Test(lastuse, one_record_per_token_until_the_batch_is_full)
{
	struct lastuse_pending *p, *again;
	uint64_t id;

	lastuse_clear(&b);
	/* sequential ids, as patd hands them out, and scattered ones */
	for (id = 1; id <= LASTUSE_BATCH / 2; id++) {
		cr_assert_not_null(p = lastuse_slot(&b, id));
		cr_assert_eq(p->id, id);
		p->use.when = (int64_t)id;
	}
	for (id = 1; id <= LASTUSE_BATCH / 2; id++)
		cr_assert_not_null(lastuse_slot(&b, id * 2654435761ull + 7));
	cr_assert_eq(b.n, LASTUSE_BATCH);
	/* known ids are found again, with what was noted */
	for (id = 1; id <= LASTUSE_BATCH / 2; id++) {
		again = lastuse_slot(&b, id);
		cr_assert_not_null(again);
		cr_assert_eq(again->use.when, (int64_t)id);
	}
	cr_assert_eq(b.n, LASTUSE_BATCH, "no duplicate records");
	/* full: a new id has no room, until the batch is written */
	cr_assert_null(lastuse_slot(&b, 999999999));
	lastuse_clear(&b);
	cr_assert_eq(b.n, 0);
	cr_assert_not_null(p = lastuse_slot(&b, 999999999));
	cr_assert_eq(b.n, 1);
	cr_assert_eq(lastuse_slot(&b, 5) != p, true);
}
