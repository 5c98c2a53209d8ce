/* mime_init.c - GMime (g_mime_init) and libxml2 (xmlInitParser) must be set up once before any
 * thread parses; pthread_once makes the first caller do it and the others wait. */
#include "mime_init.h"

#include <gmime/gmime.h>
#include <libxml/parser.h>
#include <pthread.h>

static pthread_once_t libraries_once = PTHREAD_ONCE_INIT;

static void init_libraries(void)
{
    g_mime_init();
    xmlInitParser();
}

void mime_libraries_init(void)
{
    pthread_once(&libraries_once, init_libraries);
}
