/*
 * The shared Intune library, linked into each Intune plugin (the .c
 * files of plugins/NAME and plugins/intune); a plugin includes this one
 * header.  Modules:
 *
 *   family.h  the policy families and directory kinds (A1, A3)
 *   compare.h normalize, diff and match objects; map assignments (D)
 *   pager.h   Graph lists, page by page or whole (graph_list)
 *   batch.h   queued GETs sent as $batch, 20 at a time (graph_batch)
 *   secret.h  encrypted values sealed and unsealed by the host
 *   json.h    cJSON helpers, Graph error lines, RFC 3339 times
 *   kit.h     the plugin descriptor, host checks, run outcomes
 *
 * Nothing here keeps state between calls; every object a function
 * returns says who frees it.
 */
#ifndef INTUNE_H
#define INTUNE_H

#include "batch.h"
#include "compare.h"
#include "family.h"
#include "json.h"
#include "kit.h"
#include "pager.h"
#include "secret.h"

#endif
