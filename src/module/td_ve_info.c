/* The VE_INFO block of a vCPU's TDVPS, field by field from the VE_INFO layout of
 * data/abi/structures.json. 1.5.01 keeps it at offset 0 of the TDVPR page; here it sits
 * where tdvps_store_offset() moves that offset (struct tdvps owns the start of the page). */
#include <stddef.h>
#include <string.h>

#include "td_guest.h"

struct ve_info_slot {
	uint16_t off;    /* in the VE_INFO block */
	uint8_t size;    /* bytes, as in the ABI layout */
	uint16_t member; /* offsetof in struct td_ve_info */
};

#define VE_SLOT(F, member) { VE_INFO_OFF_##F, VE_INFO_SZ_##F, offsetof(struct td_ve_info, member) }
static const struct ve_info_slot ve_info_slots[] = {
	VE_SLOT(EXIT_REASON, exit_reason),
	VE_SLOT(VALID, valid),
	VE_SLOT(EXIT_QUALIFICATION, exit_qualification),
	VE_SLOT(GLA, gla),
	VE_SLOT(GPA, gpa),
	VE_SLOT(EPTP_INDEX, eptp_index),
	VE_SLOT(INSTRUCTION_LENGTH, instr_len),
	VE_SLOT(INSTRUCTION_INFO, instr_info),
};

_Static_assert(VE_INFO_SZ_EXIT_REASON == sizeof(((struct td_ve_info *)0)->exit_reason), "VE_INFO layout");
_Static_assert(VE_INFO_SZ_VALID == sizeof(((struct td_ve_info *)0)->valid), "VE_INFO layout");
_Static_assert(VE_INFO_SZ_EXIT_QUALIFICATION == sizeof(((struct td_ve_info *)0)->exit_qualification), "VE_INFO layout");
_Static_assert(VE_INFO_SZ_GLA == sizeof(((struct td_ve_info *)0)->gla), "VE_INFO layout");
_Static_assert(VE_INFO_SZ_GPA == sizeof(((struct td_ve_info *)0)->gpa), "VE_INFO layout");
_Static_assert(VE_INFO_SZ_EPTP_INDEX == sizeof(((struct td_ve_info *)0)->eptp_index), "VE_INFO layout");
_Static_assert(VE_INFO_SZ_INSTRUCTION_LENGTH == sizeof(((struct td_ve_info *)0)->instr_len), "VE_INFO layout");
_Static_assert(VE_INFO_SZ_INSTRUCTION_INFO == sizeof(((struct td_ve_info *)0)->instr_info), "VE_INFO layout");

static uint8_t *ve_info_block(const struct tdvps_pages *pg)
{
	return tdvps_store(pg, tdvps_store_offset(0));
}

void td_ve_info_get(const struct tdvps_pages *pg, struct td_ve_info *vi)
{
	const uint8_t *b = ve_info_block(pg);

	for (size_t i = 0; i < sizeof(ve_info_slots) / sizeof(ve_info_slots[0]); i++)
		memcpy((uint8_t *)vi + ve_info_slots[i].member, b + ve_info_slots[i].off, ve_info_slots[i].size);
}

void td_ve_info_put(const struct tdvps_pages *pg, const struct td_ve_info *vi)
{
	uint8_t *b = ve_info_block(pg);

	for (size_t i = 0; i < sizeof(ve_info_slots) / sizeof(ve_info_slots[0]); i++)
		memcpy(b + ve_info_slots[i].off, (const uint8_t *)vi + ve_info_slots[i].member, ve_info_slots[i].size);
}
