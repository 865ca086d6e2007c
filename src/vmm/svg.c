/* The physical memory map as a picture: an overview of the whole address space (e820,
 * CMRs, TDMRs, reserved areas, PAMTs), then one zoomed bar per TDMR on its own scale, so
 * that small reserved areas and PAMTs stay visible next to terabytes of RAM. */
#include <stdio.h>

#include "cli.h"
#include "sim.h"

#define W 1200.0
#define X0 170.0
#define XMAX (W - 30.0)
#define LANE 30.0

struct scale {
	uint64_t lo, hi;
};

static double xpos(struct scale s, uint64_t pa)
{
	if (pa < s.lo)
		pa = s.lo;
	if (pa > s.hi)
		pa = s.hi;
	return X0 + (XMAX - X0) * ((double)(pa - s.lo) / (double)(s.hi - s.lo));
}

static void rect(FILE *f, struct scale s, uint64_t b, uint64_t e, double y, double h, const char *fill,
		 const char *title)
{
	double x = xpos(s, b), w = xpos(s, e) - x;

	if (e <= s.lo || b >= s.hi)
		return;
	if (w < 1.5)
		w = 1.5; /* keep tiny ranges visible */
	fprintf(f, "<rect x='%.2f' y='%.1f' width='%.2f' height='%.1f' fill='%s' stroke='#333' stroke-width='0.3'>"
		   "<title>%s [%#llx, %#llx)</title></rect>\n",
		x, y, w, h, fill, title, (unsigned long long)b, (unsigned long long)e);
}

static void label(FILE *f, double x, double y, const char *anchor, const char *text)
{
	fprintf(f, "<text x='%.1f' y='%.1f' text-anchor='%s'>%s</text>\n", x, y, anchor, text);
}

static void axis(FILE *f, struct scale s, double y)
{
	char t[32];
	for (int k = 0; k <= 4; k++) {
		uint64_t pa = s.lo + (s.hi - s.lo) / 4 * (uint64_t)k;
		snprintf(t, sizeof(t), "%.2fG", (double)pa / (double)(1ull << 30));
		label(f, xpos(s, pa), y, k == 0 ? "start" : k == 4 ? "end" : "middle", t);
	}
}

static double overview(FILE *f, const struct sim *s, struct scale sc, double y)
{
	const struct plat_config *c = plat_config(s->plat);
	const struct tdx_host *h = &s->host;
	static const char *lanes[] = { "e820 (RAM / other)", "CMRs", "TDMRs", "reserved areas", "PAMTs" };

	for (int l = 0; l < 5; l++)
		label(f, 10, y + l * LANE + 17, "start", lanes[l]);
	for (unsigned i = 0; i < c->nr_e820; i++)
		rect(f, sc, c->e820[i].addr, c->e820[i].addr + c->e820[i].size, y, LANE - 8,
		     c->e820[i].type == E820_RAM ? "#8fd18f" : "#d9d9d9", c->e820[i].type == E820_RAM ? "RAM" : "reserved");
	for (unsigned i = 0; i < h->sysinfo.num_cmrs && i < MAX_CMR; i++)
		if (h->sysinfo.cmr_size[i])
			rect(f, sc, h->sysinfo.cmr_base[i], h->sysinfo.cmr_base[i] + h->sysinfo.cmr_size[i], y + LANE,
			     LANE - 8, "#7fb3e6", "CMR");
	for (unsigned i = 0; i < h->nr_tdmrs; i++) {
		const struct tdx_tdmr *t = &h->tdmrs[i];
		rect(f, sc, t->base, t->base + t->size, y + 2 * LANE, LANE - 8, i % 2 ? "#f2c27f" : "#f5d9a8", "TDMR");
		for (unsigned r = 0; r < t->nr_rsvd; r++)
			rect(f, sc, t->base + t->rsvd[r].offset, t->base + t->rsvd[r].offset + t->rsvd[r].size,
			     y + 3 * LANE, LANE - 8, "#e07a7a", "reserved area");
		for (unsigned l = 0; l < 3; l++)
			rect(f, sc, t->pamt_base[l], t->pamt_base[l] + t->pamt_size[l], y + 4 * LANE, LANE - 8, "#9b59b6",
			     "PAMT");
	}
	axis(f, sc, y + 5 * LANE + 8);
	return y + 5 * LANE + 30;
}

/* One TDMR on its own scale: CMR coverage, the TDMR, its reserved areas, any PAMT inside. */
static double zoom(FILE *f, const struct sim *s, unsigned i, double y)
{
	const struct tdx_host *h = &s->host;
	const struct tdx_tdmr *t = &h->tdmrs[i];
	struct scale sc = { t->base, t->base + t->size };
	char text[160];

	snprintf(text, sizeof(text), "TDMR %u: [%#llx, %#llx) %.2f GiB, %u reserved areas", i,
		 (unsigned long long)t->base, (unsigned long long)(t->base + t->size),
		 (double)t->size / (double)(1ull << 30), t->nr_rsvd);
	label(f, 10, y + 12, "start", text);
	y += 18;
	label(f, 10, y + 14, "start", "TDMR / CMR");
	rect(f, sc, t->base, t->base + t->size, y, 18, "#f5d9a8", "TDMR");
	for (unsigned k = 0; k < h->sysinfo.num_cmrs && k < MAX_CMR; k++)
		if (h->sysinfo.cmr_size[k])
			rect(f, sc, h->sysinfo.cmr_base[k], h->sysinfo.cmr_base[k] + h->sysinfo.cmr_size[k], y + 20, 5,
			     "#7fb3e6", "CMR");
	for (unsigned r = 0; r < t->nr_rsvd; r++)
		rect(f, sc, t->base + t->rsvd[r].offset, t->base + t->rsvd[r].offset + t->rsvd[r].size, y, 18, "#e07a7a",
		     "reserved area");
	for (unsigned j = 0; j < h->nr_tdmrs; j++)
		for (unsigned l = 0; l < 3; l++)
			rect(f, sc, h->tdmrs[j].pamt_base[l], h->tdmrs[j].pamt_base[l] + h->tdmrs[j].pamt_size[l], y + 4, 10,
			     "#9b59b6", "PAMT");
	axis(f, sc, y + 40);
	return y + 52;
}

int svg_memory_map(const struct sim *s, const char *path)
{
	const struct plat_config *c = plat_config(s->plat);
	const struct tdx_host *h = &s->host;
	struct scale sc = { 0, 0 };
	double height = 60 + 5 * LANE + 30 + 70.0 * h->nr_tdmrs + 40, y;
	FILE *f = fopen(path, "w");

	if (!f)
		return -1;
	for (unsigned i = 0; i < c->nr_e820; i++)
		if (c->e820[i].addr + c->e820[i].size > sc.hi)
			sc.hi = c->e820[i].addr + c->e820[i].size;
	for (unsigned i = 0; i < h->nr_tdmrs; i++)
		if (h->tdmrs[i].base + h->tdmrs[i].size > sc.hi)
			sc.hi = h->tdmrs[i].base + h->tdmrs[i].size;
	fprintf(f, "<svg xmlns='http://www.w3.org/2000/svg' width='%.0f' height='%.0f' font-family='sans-serif' "
		   "font-size='12'>\n<rect width='100%%' height='100%%' fill='white'/>\n", W, height);
	fprintf(f, "<text x='10' y='22' font-size='15'>tdxemu physical memory map: %.1f GiB of address space, "
		   "%u TDMRs (legend: RAM green, CMR blue, TDMR orange, reserved red, PAMT purple)</text>\n",
		(double)sc.hi / (double)(1ull << 30), h->nr_tdmrs);
	y = overview(f, s, sc, 40);
	for (unsigned i = 0; i < h->nr_tdmrs; i++)
		y = zoom(f, s, i, y);
	fprintf(f, "</svg>\n");
	return fclose(f) ? -1 : 0;
}
