#include <yajl/yajl_gen.h>
#include <yajl/yajl_parse.h>
