#include <jansson.h>

/* jansson's type tests are macros, which Swift does not import. */
static inline json_type cjansson_type(const json_t *json) { return json ? json_typeof(json) : JSON_NULL; }
