/* l_nn.c: sets actrun.conv2d, actrun.max_pool2d, actrun.pau, actrun.bspline_basis and
 * actrun._safetensors (the C half of nn.save / nn.load) in the module table at modi. */
#ifndef ACTRUN_L_NN_H
#define ACTRUN_L_NN_H

#include <lua.h>

void lt_open_nn(lua_State *L, int modi, int ctxi, int mti);

#endif
