/* SPDX-License-Identifier: MIT */
/* The status page, built in from server/http_page.html (see the Makefile). */
#include "http.h"

const char http_page_html[] =
#include "http_page.inc"
    ;
