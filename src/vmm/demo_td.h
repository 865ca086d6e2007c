/* The in-tree demo TD firmware (guest/), embedded at build time by tools/mk_tdvf.py. */
#ifndef DEMO_TD_H
#define DEMO_TD_H

#include <stddef.h>

extern const unsigned char tdxemu_demo_td[];
extern const size_t tdxemu_demo_td_size;

#endif
