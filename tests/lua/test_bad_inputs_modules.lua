-- The bad-input catalogue for everything outside the Tensors section (test_bad_inputs.lua
-- has that): actrun.act, nn (modules, losses, init, files), optim, data, lab, plot and the
-- remaining actrun.* functions, plus hostile files and the regressions the fuzzers found
-- (tests/fuzz). One row per case: {label, function, message fragments...}; a fragment
-- that is a table lists alternatives. Every row must raise a Lua error whose message has
-- every fragment (the function's name first, then the argument or option and the
-- problem). After the whole catalogue the interpreter and the tensors passed in must be
-- unchanged and usable.
package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" .. package.path
local T = require "testlib"
local actrun = T.actrun
local act, nn, optim, data, lab, plot = actrun.act, actrun.nn, actrun.optim, actrun.data,
  actrun.lab, actrun.plot

local tmp = os.tmpname()
os.remove(tmp)
assert(os.execute("mkdir -p '" .. tmp .. "'"))
local function path(name) return tmp .. "/" .. name end
local function write(name, bytes)
  local p = path(name)
  local f = assert(io.open(p, "wb"))
  f:write(bytes)
  f:close()
  return p
end

actrun.manual_seed(5)
local x = actrun.randn(4, 3)
local x_before = x:totable()
local lin = nn.Linear(3, 2)
local lin_before = lin.weight:totable()
local y4 = actrun.tensor{1, 2, 1, 2}
local function sgd() return optim.SGD(lin:parameters(), {lr = 0.1}) end
local function pairs2() return {train = {X = actrun.zeros(4, 2), y = y4}, test = {X = actrun.zeros(4, 2), y = y4}} end

-- IDX: magic 0 0 type ndims, big-endian dims, then the data
local function idx(typ, dims, body)
  local s = string.char(0, 0, typ, #dims)
  for _, d in ipairs(dims) do s = s .. string.pack(">I4", d) end
  return s .. (body or "")
end
-- safetensors: 8-byte little-endian header length, JSON header, data
local function st(header, body, len)
  return string.pack("<I8", len or #header) .. header .. (body or "")
end

local TYPE = {"expected", "got"}
local POS = {"positive", ">= 1", "> 0", "1..", "in [0, 1]"}

local CASES = {
  -- actrun.act ------------------------------------------------------------------------
  {"act.relu(string)", function() return act.relu("x") end, "actrun.act.relu", "argument #1 (x)", "expected a tensor"},
  {"act.relu()", function() return act.relu() end, "actrun.act.relu", "argument #1", "no value"},
  {"act.leaky_relu(x, string)", function() return act.leaky_relu(x, "a") end, "actrun.act.leaky_relu", "argument #2 (negative_slope)"},
  {"act.elu(x, NaN)", function() return act.elu(x, 0 / 0) end, "actrun.act.elu", "alpha", "finite"},
  {"act.rrelu(x, lower > upper)", function() return act.rrelu(x, 0.5, 0.1) end, "actrun.act.rrelu", "lower", "upper"},
  {"act.prelu(x, string)", function() return act.prelu(x, "w") end, "actrun.act.prelu", "argument #2"},
  {"act.softmax(x, dim 5)", function() return act.softmax(x, 5) end, "actrun.act.softmax", "argument #2 (dim)", "out of range"},
  {"act.log_softmax(x, string dim)", function() return act.log_softmax(x, "a") end, "actrun.act.log_softmax", "argument #2 (dim)"},
  {"act.apply(unknown)", function() return act.apply("nope", x) end, "actrun.act.apply", "unknown activation 'nope'"},
  {"act.apply(number name)", function() return act.apply(1, x) end, "actrun.act.apply", "argument #1 (name)"},
  {"act.apply(params string)", function() return act.apply("elu", x, "p") end, "actrun.act.apply", "argument #3 (params)"},
  {"act.apply(unknown param)", function() return act.apply("elu", x, {zzz = 1}) end, "actrun.act.apply", "unknown parameter 'zzz'"},
  {"act.info(unknown)", function() return act.info("nope") end, "actrun.act.info", "unknown activation"},
  {"act.info()", function() return act.info() end, "actrun.act.info", "argument #1 (name)"},
  {"act.scalar(name, string)", function() return act.scalar("relu", "x") end, "actrun.act.scalar", "argument #2 (x)"},
  {"act.scalar(unknown)", function() return act.scalar("nope", 1) end, "actrun.act.scalar", "unknown activation"},
  {"act.define(number name)", function() return act.define(1, function(t) return t end) end, "actrun.act.define", "argument #1 (name)"},
  {"act.define(name, not a function)", function() return act.define("zz_bad", 1) end, "actrun.act.define", "argument #2 (fn)"},
  {"act.define(built-in name)", function() return act.define("relu", function(t) return t end) end, "actrun.act.define", "built-in"},
  {"act.properties(unknown)", function() return act.properties("nope") end, "actrun.act.properties", "unknown activation"},
  {"act.properties(params nan)", function() return act.properties("elu", 0/0) end, "actrun.act.properties", "argument #2 (params)"},
  {"act.properties(param nan)", function() return act.properties("elu", {alpha = 0/0}) end, "actrun.act.properties", "'alpha' must be finite, got nan"},
  {"act.table{unknown}", function() return act.table({"nope"}) end, "actrun.act.table", "unknown activation"},
  {"act.derivative(unknown)", function() return act.derivative("nope", x) end, "actrun.act.derivative", "unknown activation"},
  {"act.derivative(name, string)", function() return act.derivative("relu", "x") end, "actrun.act.derivative", "argument #2 (x)"},
  {"act.backward(dy string)", function() return act.backward("relu", x, "g") end, "actrun.act.backward", "argument #3 (dy)"},
  {"act.backward(dy shape)", function() return act.backward("relu", x, actrun.zeros(2)) end, "actrun.act.backward", "{2}", "{4,3}"},
  {"act.plot(string)", function() return act.plot("x") end, "actrun.plot.activations", "argument #1 (options)"},
  {"act.plot unknown name", function() return act.plot{names = {"nope"}} end, "actrun.plot.activations", "unknown activation"},
  {"act.plot from > to", function() return act.plot{names = {"relu"}, from = 1, to = 0} end, "actrun.plot.activations", "'from'", "'to'"},
  -- nn modules -------------------------------------------------------------------------
  {"nn.Linear(0, 2)", function() return nn.Linear(0, 2) end, "actrun.nn.Linear", "argument #1 (in)", POS},
  {"nn.Linear(-1, 2)", function() return nn.Linear(-1, 2) end, "actrun.nn.Linear", "argument #1 (in)"},
  {"nn.Linear(string)", function() return nn.Linear("a", 2) end, "actrun.nn.Linear", "argument #1 (in)"},
  {"nn.Linear(3, 2.5)", function() return nn.Linear(3, 2.5) end, "actrun.nn.Linear", "argument #2 (out)"},
  {"nn.Linear(2^40, 2^40) is too big", function() return nn.Linear(2 ^ 40, 2 ^ 40) end, "actrun.nn.Linear", "not enough memory for a tensor of shape {1099511627776,1099511627776}"},
  {"nn.LSTM(2^40, 2^40) is too big", function() return nn.LSTM(2 ^ 40, 2 ^ 40) end, "actrun.nn.LSTM", "not enough memory for a tensor of shape"},
  {"nn.Conv2d too big", function() return nn.Conv2d(2 ^ 20, 2 ^ 20, 2 ^ 10) end, "actrun.nn.Conv2d", "not enough memory for a tensor of shape"},
  {"nn.Linear unknown init", function() return nn.Linear(3, 2, {init = "nope"}) end, "actrun.nn.Linear", "option init"},
  {"Linear on wrong features", function() return lin(actrun.zeros(4, 5)) end, "nn.Linear(3 -> 2)", "5 features", "expected 3"},
  {"Linear on a string", function() return lin("x") end, "nn.Linear(3 -> 2)", "expected a tensor"},
  {"nn.Sequential(number)", function() return nn.Sequential(1) end, "actrun.nn.Sequential", "argument #1", "module"},
  {"nn.Activation(unknown)", function() return nn.Activation("nope") end, "actrun.nn.Activation", "unknown activation"},
  {"nn.ELU(string)", function() return nn.ELU("a") end, "actrun.nn.ELU", "argument #1 (alpha)"},
  {"nn.LeakyReLU(string)", function() return nn.LeakyReLU("a") end, "actrun.nn.LeakyReLU", "argument #1"},
  {"nn.PReLU(0)", function() return nn.PReLU(0) end, "actrun.nn.PReLU", "argument #1 (n)"},
  {"PReLU(3) on 4 channels", function() return nn.PReLU(3)(actrun.zeros(3, 4)) end, "nn.PReLU(3)", "4 channels", "expected 3"},
  {"nn.Maxout(k = 0)", function() return nn.Maxout(3, 2, 0) end, "actrun.nn.Maxout", "argument #3 (k)"},
  {"nn.BatchNorm(0)", function() return nn.BatchNorm(0) end, "actrun.nn.BatchNorm", "argument #1 (n)"},
  {"nn.BatchNorm eps < 0", function() return nn.BatchNorm(3, {eps = -1}) end, "actrun.nn.BatchNorm", "option eps"},
  {"BatchNorm(5) on 3 channels", function() return nn.BatchNorm(5)(x) end, "nn.BatchNorm(5)", "3 channels"},
  {"LayerNorm(5) on 3 features", function() return nn.LayerNorm(5)(x) end, "nn.LayerNorm(5)", "3 features"},
  {"nn.Dropout(1.5)", function() return nn.Dropout(1.5) end, "actrun.nn.Dropout", "argument #1 (p)", "[0, 1]"},
  {"nn.Dropout(-0.1)", function() return nn.Dropout(-0.1) end, "actrun.nn.Dropout", "argument #1 (p)"},
  {"nn.Dropout(NaN)", function() return nn.Dropout(0 / 0) end, "actrun.nn.Dropout", "argument #1 (p)"},
  {"nn.AlphaDropout(2)", function() return nn.AlphaDropout(2) end, "actrun.nn.AlphaDropout", "argument #1 (p)"},
  {"nn.LSTM(0, 2)", function() return nn.LSTM(0, 2) end, "actrun.nn.LSTM", "argument #1 (in)"},
  {"LSTM on a 2-D input", function() return nn.LSTM(3, 2)(x) end, "nn.LSTM(3 -> 2)", "2 dims", "expected 3"},
  {"nn.LSTM unknown gate", function() return nn.LSTM(3, 2, {gate = "nope"}) end, "actrun.nn.LSTM", "option gate"},
  {"nn.Residual(string)", function() return nn.Residual("x") end, "actrun.nn.Residual", "argument #1 (block)"},
  {"nn.Residual bad norm", function() return nn.Residual(lin, {norm = "x"}) end, "actrun.nn.Residual", "option norm"},
  {"Residual shape mismatch", function() return nn.Residual(lin)(x) end, "nn.Residual", "{4,2}", "{4,3}"},
  {"nn.Conv2d(0, 1, 3)", function() return nn.Conv2d(0, 1, 3) end, "actrun.nn.Conv2d", "argument #1 (in_ch)"},
  {"nn.Conv2d stride 0", function() return nn.Conv2d(1, 1, 3, {stride = 0}) end, "actrun.nn.Conv2d", "option stride"},
  {"Conv2d on a 2-D input", function() return nn.Conv2d(1, 1, 3)(x) end, "nn.Conv2d", "2 dims", "expected 4"},
  {"Conv2d kernel larger than the input", function() return nn.Conv2d(1, 1, 5)(actrun.zeros(1, 1, 3, 3)) end, "conv2d", "larger than the padded input"},
  {"nn.MaxPool2d(0)", function() return nn.MaxPool2d(0) end, "actrun.nn.MaxPool2d", "argument #1 (k)"},
  {"MaxPool2d on a 2-D input", function() return nn.MaxPool2d(2)(x) end, "nn.MaxPool2d(2)", "expected 4"},
  {"Flatten on a string", function() return nn.Flatten()("x") end, "actrun.nn.Flatten", "expected a tensor"},
  {"nn.mlp{}", function() return nn.mlp{} end, "actrun.nn.mlp", "at least 2 sizes"},
  {"nn.mlp{3}", function() return nn.mlp{3} end, "actrun.nn.mlp", "at least 2 sizes"},
  {"nn.mlp zero width", function() return nn.mlp{3, 0, 2} end, "actrun.nn.mlp", "size 2"},
  {"nn.mlp unknown activation", function() return nn.mlp{3, 4, 2, activation = "nope"} end, "actrun.nn.mlp", "unknown activation"},
  {"nn.mlp unknown norm", function() return nn.mlp{3, 4, 2, norm = "nope"} end, "actrun.nn.mlp", "option norm"},
  {"nn.mlp dropout 2", function() return nn.mlp{3, 4, 2, dropout = 2} end, "actrun.nn.mlp", "option dropout"},
  -- losses ----------------------------------------------------------------------------
  {"cross_entropy label 0", function() return nn.cross_entropy(x, actrun.tensor{0, 1, 2, 3}) end, "actrun.nn.cross_entropy", "label 0", "outside 1..3"},
  {"cross_entropy label C+1", function() return nn.cross_entropy(x, actrun.tensor{1, 1, 2, 4}) end, "actrun.nn.cross_entropy", "label 4", "position 4"},
  {"cross_entropy label 1.5", function() return nn.cross_entropy(x, actrun.tensor{1, 1, 2, 1.5}) end, "actrun.nn.cross_entropy", "not an integer"},
  {"cross_entropy label NaN", function() return nn.cross_entropy(x, actrun.tensor{1, 1, 2, 0 / 0}) end, "actrun.nn.cross_entropy", "not an integer"},
  {"cross_entropy label huge", function() return nn.cross_entropy(x, {1, 1, 2, 1 << 62}) end, "actrun.nn.cross_entropy", "label"},
  {"cross_entropy label count", function() return nn.cross_entropy(x, actrun.tensor{1, 1}) end, "actrun.nn.cross_entropy", "2 entries", "expected 4"},
  {"cross_entropy labels string", function() return nn.cross_entropy(x, "y") end, "actrun.nn.cross_entropy", "argument #2 (labels)"},
  {"cross_entropy logits 1-D", function() return nn.cross_entropy(actrun.zeros(3), {1}) end, "actrun.nn.cross_entropy", "logits", "2-D"},
  {"nll label 9", function() return nn.nll(x, actrun.tensor{1, 1, 2, 9}) end, "actrun.nn.nll", "label 9"},
  {"mse shape mismatch", function() return nn.mse(x, actrun.zeros(5)) end, "actrun.nn.mse", "{4,3}", "{5}"},
  {"mse string", function() return nn.mse(x, "t") end, "actrun.nn.mse", "argument #2"},
  {"bce p outside [0, 1]", function() return nn.bce(actrun.full({2}, 2), actrun.zeros(2)) end, "actrun.nn.bce", "argument #1 (p)", "[0, 1]"},
  {"bce p NaN", function() return nn.bce(actrun.tensor{0.5, 0 / 0}, actrun.zeros(2)) end, "actrun.nn.bce", "argument #1 (p)"},
  {"bce_with_logits shape mismatch", function() return nn.bce_with_logits(x, actrun.zeros(5)) end, "actrun.nn.bce_with_logits", "{5}"},
  -- nn.init ---------------------------------------------------------------------------
  {"init.xavier_uniform(string)", function() return nn.init.xavier_uniform("x") end, "actrun.nn.init.xavier_uniform", "argument #1 (t)"},
  {"init.xavier_uniform 1-D", function() return nn.init.xavier_uniform(actrun.zeros(3)) end, "actrun.nn.init.xavier_uniform", "2 or more dims"},
  {"init.kaiming_uniform unknown nonlinearity", function() return nn.init.kaiming_uniform(actrun.zeros(2, 2), {nonlinearity = "nope"}) end, "actrun.nn.init.kaiming_uniform", "'nope'"},
  {"init.normal std < 0", function() return nn.init.normal(actrun.zeros(2, 2), 0, -1) end, "actrun.nn.init.normal", "std"},
  {"init.normal std inf", function() return nn.init.normal(actrun.zeros(2, 2), 0, math.huge) end, "actrun.nn.init.normal", "std"},
  {"init.uniform a > b", function() return nn.init.uniform(actrun.zeros(2, 2), 1, 0) end, "actrun.nn.init.uniform", "a <= b"},
  {"init.uniform NaN", function() return nn.init.uniform(actrun.zeros(2, 2), 0 / 0, 1) end, "actrun.nn.init.uniform", "a <= b"},
  {"init.constant(string)", function() return nn.init.constant(actrun.zeros(2, 2), "a") end, "actrun.nn.init.constant", "argument #2 (v)"},
  {"init.orthogonal 1-D", function() return nn.init.orthogonal(actrun.zeros(3)) end, "actrun.nn.init.orthogonal", "2 or more dims"},
  {"init.gain unknown", function() return nn.init.gain("nope") end, "actrun.nn.init.gain", "'nope'"},
  -- nn files --------------------------------------------------------------------------
  {"nn.save(number path)", function() return nn.save(1, lin) end, "actrun.nn.save", "argument #1 (path)"},
  {"nn.save(string module)", function() return nn.save(path("a.st"), "x") end, "actrun.nn.save", "argument #2 (module)"},
  {"nn.save into a missing directory", function() return nn.save(path("no/such/dir/f"), lin) end, "actrun.nn.save", "no/such/dir/f"},
  {"nn.save onto a directory", function() return nn.save(tmp, lin) end, "actrun.nn.save"},
  {"nn.load missing file", function() return nn.load(path("missing.st")) end, "actrun.nn.load", "missing.st", "cannot open"},
  {"nn.load a directory", function() return nn.load(tmp) end, "actrun.nn.load", tmp},
  {"nn.load(number)", function() return nn.load(1) end, "actrun.nn.load", "argument #1 (path)"},
  {"nn.load into a module of other shapes", function()
     nn.save(path("lin.st"), lin)
     return nn.load(path("lin.st"), nn.Linear(4, 2))
   end, "actrun.nn.load", "'weight' has shape {2,3} in the file but {2,4} in the module"},
  {"nn.load into a module with other names", function()
     nn.save(path("lin.st"), lin)
     return nn.load(path("lin.st"), nn.mlp{3, 4, 2})
   end, "actrun.nn.load", "missing tensors"},
  {"nn.load huge declared shape", function()
     return nn.load(write("huge.st", st('{"w":{"dtype":"F32","shape":[1099511627776,1099511627776],"data_offsets":[0,8]}}', ("\0"):rep(8))))
   end, "actrun.nn.load", "huge.st"},
  {"nn.load offsets outside the file", function()
     return nn.load(write("off.st", st('{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,4000000000000]}}', ("\0"):rep(8))))
   end, "actrun.nn.load", "off.st"},
  {"nn.load negative offsets", function()
     return nn.load(write("neg.st", st('{"w":{"dtype":"F32","shape":[2],"data_offsets":[-8,0]}}', ("\0"):rep(8))))
   end, "actrun.nn.load", "neg.st"},
  {"nn.load header length 2^63", function()
     return nn.load(write("hdr.st", st("{}", "", 1 << 63)))
   end, "actrun.nn.load", "hdr.st"},
  {"nn.load shape that overflows with a zero", function()
     return nn.load(write("zero.st", st('{"w":{"dtype":"F32","shape":[0,4611686018427387904,4611686018427387904],"data_offsets":[0,0]}}')))
   end, "actrun.nn.load", "zero.st"},
  -- optim -----------------------------------------------------------------------------
  {"SGD(string)", function() return optim.SGD("x", {lr = 0.1}) end, "actrun.optim.SGD", "argument #1 (params)"},
  {"SGD without lr", function() return optim.SGD(lin:parameters()) end, "actrun.optim.SGD", "option lr"},
  {"SGD lr < 0", function() return optim.SGD(lin:parameters(), {lr = -1}) end, "actrun.optim.SGD", "option lr"},
  {"SGD lr NaN", function() return optim.SGD(lin:parameters(), {lr = 0 / 0}) end, "actrun.optim.SGD", "option lr"},
  {"SGD lr inf", function() return optim.SGD(lin:parameters(), {lr = math.huge}) end, "actrun.optim.SGD", "option lr"},
  {"SGD momentum < 0", function() return optim.SGD(lin:parameters(), {lr = 0.1, momentum = -1}) end, "actrun.optim.SGD", "option momentum"},
  {"SGD params not tensors", function() return optim.SGD({1}, {lr = 0.1}) end, "actrun.optim.SGD", "entry 1"},
  {"SGD unknown option", function() return optim.SGD(lin:parameters(), {lr = 0.1, mom = 1}) end, "actrun.optim.SGD", "unknown option 'mom'"},
  {"Adam betas out of range", function() return optim.Adam(lin:parameters(), {betas = {2, 0.9}}) end, "actrun.optim.Adam", "option betas"},
  {"Adam betas string", function() return optim.Adam(lin:parameters(), {betas = "x"}) end, "actrun.optim.Adam", "option betas"},
  {"Adam eps < 0", function() return optim.Adam(lin:parameters(), {eps = -1}) end, "actrun.optim.Adam", "option eps"},
  {"AdamW weight_decay < 0", function() return optim.AdamW(lin:parameters(), {weight_decay = -1}) end, "actrun.optim.AdamW", "option weight_decay"},
  {"Adagrad lr string", function() return optim.Adagrad(lin:parameters(), {lr = "x"}) end, "actrun.optim.Adagrad", "option lr"},
  {"RMSprop eps NaN", function() return optim.RMSprop(lin:parameters(), {eps = 0 / 0}) end, "actrun.optim.RMSprop", "option eps"},
  {"clip_grad_norm max_norm < 0", function() return optim.clip_grad_norm(lin:parameters(), -1) end, "actrun.optim.clip_grad_norm", "argument #2 (max_norm)"},
  {"clip_grad_norm(string)", function() return optim.clip_grad_norm("x", 1) end, "actrun.optim.clip_grad_norm", "argument #1 (params)"},
  {"StepLR(string)", function() return optim.StepLR("x", {step = 1, gamma = 0.5}) end, "actrun.optim.StepLR", "argument #1 (opt)"},
  {"StepLR step 0", function() return optim.StepLR(sgd(), {step = 0, gamma = 0.5}) end, "actrun.optim.StepLR", "option step"},
  {"CosineLR T 0", function() return optim.CosineLR(sgd(), {T = 0}) end, "actrun.optim.CosineLR", "option T"},
  {"step with lr a string", function() local o = sgd(); o.lr = "x"; return o:step() end, "actrun.optim.SGD", "lr"},
  -- data ------------------------------------------------------------------------------
  {"data.idx(number)", function() return data.idx(1) end, "actrun.data.idx", "argument #1 (path)"},
  {"data.idx missing", function() return data.idx(path("missing.idx")) end, "actrun.data.idx", "missing.idx"},
  {"data.idx a directory", function() return data.idx(tmp) end, "actrun.data.idx", tmp},
  {"data.idx empty file", function() return data.idx(write("empty.idx", "")) end, "actrun.data.idx", "empty.idx"},
  {"data.idx unknown type", function() return data.idx(write("type.idx", idx(0x42, {1}, "x"))) end, "actrun.data.idx", "type.idx"},
  {"data.idx 0 dims", function() return data.idx(write("nodim.idx", idx(8, {}, "x"))) end, "actrun.data.idx", "nodim.idx"},
  {"data.idx 200 dims", function() return data.idx(write("dims.idx", string.char(0, 0, 8, 200) .. ("\0\0\0\1"):rep(200))) end, "actrun.data.idx", "dims.idx"},
  {"data.idx huge dims", function() return data.idx(write("huge.idx", idx(8, {0xffffffff, 0xffffffff, 0xffffffff}, "abc"))) end, "actrun.data.idx", "huge.idx"},
  {"data.idx huge dims after a zero", function() return data.idx(write("zhuge.idx", idx(8, {0, 0xffffffff, 0xffffffff, 0xffffffff})))end, "actrun.data.idx", "zhuge.idx"},
  {"data.idx dims cut short", function() return data.idx(write("cut.idx", string.char(0, 0, 8, 3, 0, 0))) end, "actrun.data.idx", "cut.idx"},
  {"data.idx float data cut short", function() return data.idx(write("f32.idx", idx(0x0D, {3}, ("\0"):rep(10)))) end, "actrun.data.idx", "f32.idx"},
  {"data.idx corrupt gzip", function() return data.idx(write("bad.idx.gz", "\31\139\8\0\0\0\0\0\0\3garbage-garbage")) end, "actrun.data.idx", "bad.idx.gz"},
  {"data.idx limit string", function() return data.idx(write("ok.idx", idx(8, {2}, "ab")), {limit = "x"}) end, "actrun.data.idx", "'limit'"},
  {"data.csv missing", function() return data.csv(path("missing.csv")) end, "actrun.data.csv", "missing.csv"},
  {"data.csv a directory", function() return data.csv(tmp) end, "actrun.data.csv", tmp},
  {"data.csv options string", function() return data.csv(path("x.csv"), "x") end, "actrun.data.csv", "argument #2 (options)"},
  {"data.csv NUL byte", function() return data.csv(write("nul.csv", "1,2\n3,\0\n")) end, "actrun.data.csv", "nul.csv"},
  {"data.csv binary garbage", function() return data.csv(write("bin.csv", "\255\254\1\2,\3\n")) end, "actrun.data.csv", "bin.csv"},
  {"data.csv mismatched quotes (fuzzer regression)", function()
     return data.csv(write("quotes.csv", '"x",x","ynan,Ean,Enf"y\255\255\255\255\255'))
   end, "actrun.data.csv", "quotes.csv"},
  {"data.moons n -1", function() return data.moons{n = -1} end, "actrun.data.moons", "'n'"},
  {"data.moons n string", function() return data.moons{n = "x"} end, "actrun.data.moons", "'n'"},
  {"data.moons n 2^62", function() return data.moons{n = 1 << 62} end, "actrun.data.moons"},
  {"data.moons noise < 0", function() return data.moons{noise = -1} end, "actrun.data.moons", "'noise'"},
  {"data.moons noise NaN", function() return data.moons{noise = 0 / 0} end, "actrun.data.moons", "'noise'"},
  {"data.spirals classes 0", function() return data.spirals{classes = 0} end, "actrun.data.spirals", "'classes'"},
  {"data.blobs classes -1", function() return data.blobs{classes = -1} end, "actrun.data.blobs", "'classes'"},
  {"data.circles factor 2", function() return data.circles{factor = 2} end, "actrun.data.circles", "'factor'"},
  {"data.xor(string)", function() return data.xor("x") end, "actrun.data.xor", "argument #1 (options)"},
  {"data.and_gate(string)", function() return data.and_gate("x") end, "actrun.data.and_gate", "argument #1 (options)"},
  {"data.loader row mismatch", function() return data.loader(x, actrun.zeros(3), {batch = 2}) end, "actrun.data.loader", "4 ~= 3"},
  {"data.loader batch 0", function() return data.loader(x, actrun.zeros(4), {batch = 0}) end, "actrun.data.loader", "'batch'"},
  {"data.loader(string)", function() return data.loader("x") end, "actrun.data.loader", "argument #1 (X)"},
  {"data.fashion_mnist bad split", function() return data.fashion_mnist{split = "nope"} end, "actrun.data.fashion_mnist", "'split'"},
  {"data.fashion_mnist missing dir", function() return data.fashion_mnist{dir = path("nodir")} end, "actrun.data.fashion_mnist", "nodir"},
  {"data.fashion_mnist limit -1", function() return data.fashion_mnist{limit = -1} end, "actrun.data.fashion_mnist", "'limit'"},
  {"data.mnist without dir", function() return data.mnist{} end, "actrun.data.mnist", "'dir'"},
  -- lab -------------------------------------------------------------------------------
  {"lab.train(string)", function() return lab.train("x", {}) end, "actrun.lab.train", "argument #1 (model)"},
  {"lab.train without y", function() return lab.train(lin, {X = x}) end, "actrun.lab.train", "field y"},
  {"lab.train epochs -1", function() return lab.train(lin, {X = x, y = y4}, {epochs = -1}) end, "actrun.lab.train", "option epochs"},
  {"lab.train optimizer string", function() return lab.train(lin, {X = x, y = y4}, {optimizer = "nope"}) end, "actrun.lab.train", "option optimizer"},
  {"lab.train loss string", function() return lab.train(lin, {X = x, y = y4}, {loss = "nope"}) end, "actrun.lab.train", "option loss"},
  {"lab.train label out of range", function() return lab.train(lin, {X = x, y = actrun.tensor{1, 2, 1, 3}}, {epochs = 1}) end, "actrun.lab.train", "label 3"},
  {"lab.evaluate y string", function() return lab.evaluate(lin, x, "y") end, "actrun.lab.evaluate", "argument #3 (y)"},
  {"lab.compare{}", function() return lab.compare{} end, "actrun.lab.compare", "option activations"},
  {"lab.compare model not a function", function() return lab.compare{activations = {"relu"}, model = 1, data = pairs2()} end, "actrun.lab.compare", "model"},
  {"lab.gradient_flow(string)", function() return lab.gradient_flow("x", x, x) end, "actrun.lab.gradient_flow", "argument #1 (model)"},
  {"lab.activation_stats X string", function() return lab.activation_stats(lin, "x") end, "actrun.lab.activation_stats", "argument #2 (X)"},
  {"lab.depth_probe depth 0", function() return lab.depth_probe{activation = "relu", depth = 0} end, "actrun.lab.depth_probe", "option depth"},
  {"lab.depth_probe unknown activation", function() return lab.depth_probe{activation = "nope", depth = 2} end, "actrun.lab.depth_probe", "option activation"},
  {"lab.dead_units(string)", function() return lab.dead_units("x", x) end, "actrun.lab.dead_units", "argument #1 (model)"},
  {"lab.gradcheck(string)", function() return lab.gradcheck("x", {}) end, "actrun.lab.gradcheck", "argument #1 (fn)"},
  {"lab.plot_depth(string)", function() return lab.plot_depth("x") end, "actrun.lab.plot_depth", "argument #1 (probes)"},
  -- plot ------------------------------------------------------------------------------
  {"plot.line(string)", function() return plot.line("x") end, "actrun.plot.line", "argument #1 (options)"},
  {"plot.line series string", function() return plot.line{series = "x"} end, "actrun.plot.line", "'series'"},
  {"plot.line x/y counts", function() return plot.line{series = {{x = {1, 2}, y = {1}}}} end, "actrun.plot.line", "2 x values", "1 y values"},
  {"plot.line into a missing directory", function() return plot.line{series = {{x = {1, 2}, y = {1, 2}}}, file = path("no/dir/x.svg")} end, "actrun.plot.line", "no/dir/x.svg"},
  {"plot.hist(string)", function() return plot.hist("x") end, "actrun.plot.hist", "argument #1 (data)"},
  {"plot.hist bins 0", function() return plot.hist(x, {bins = 0}) end, "actrun.plot.hist", "'bins'"},
  {"plot.hist bins 2^62", function() return plot.hist(x, {bins = 1 << 62}) end, "actrun.plot.hist", "'bins'"},
  {"plot.bar(string)", function() return plot.bar("x") end, "actrun.plot.bar", "argument #1 (options)"},
  {"plot.grid(string)", function() return plot.grid("x") end, "actrun.plot.grid", "argument #1 (options)"},
  {"plot.ticks(strings)", function() return plot.ticks("a", "b") end, "actrun.plot.ticks", "two numbers"},
  {"plot.activations(string)", function() return plot.activations("x") end, "actrun.plot.activations", "argument #1 (options)"},
  -- the rest of actrun.* --------------------------------------------------------------
  {"set_num_threads(0)", function() return actrun.set_num_threads(0) end, "actrun.set_num_threads", "argument #1 (n)"},
  {"set_num_threads(-1)", function() return actrun.set_num_threads(-1) end, "actrun.set_num_threads", "argument #1 (n)"},
  {"set_num_threads(2^40)", function() return actrun.set_num_threads(1 << 40) end, "actrun.set_num_threads", "argument #1 (n)"},
  {"set_num_threads(string)", function() return actrun.set_num_threads("x") end, "actrun.set_num_threads", "argument #1"},
  {"manual_seed(string)", function() return actrun.manual_seed("x") end, "actrun.manual_seed", "argument #1 (seed)"},
  {"manual_seed(NaN)", function() return actrun.manual_seed(0 / 0) end, "actrun.manual_seed", "argument #1 (seed)"},
  {"no_grad(string)", function() return actrun.no_grad("x") end, "actrun.no_grad", "argument #1 (fn)"},
  {"matmul shape mismatch", function() return actrun.matmul(actrun.zeros(2, 3), actrun.zeros(2, 3)) end, "actrun.matmul", "{2,3}"},
  {"conv2d(string)", function() return actrun.conv2d("x") end, "actrun.conv2d", "argument #1 (input)"},
  {"max_pool2d(string)", function() return actrun.max_pool2d("x") end, "actrun.max_pool2d", "argument #1 (input)"},
  {"linear(string)", function() return actrun.linear("x") end, "actrun.linear", "argument #1 (x)"},
  -- fuzzer regressions in the tensor API ---------------------------------------------
  {"zeros(0, 2^62, 2^62): sizes past a zero still bounded", function() return actrun.zeros(0, 1 << 62, 1 << 62) end, "actrun.zeros", "too large"},
  {"empty(2^62, 0, 2^62)", function() return actrun.empty(1 << 62, 0, 1 << 62) end, "actrun.empty", "too large"},
  {"reshape of an empty tensor to overflowing sizes", function() return actrun.zeros(0):reshape(0, 1 << 62, 1 << 62) end, "Tensor:reshape", "too large"},
  {"view of an empty tensor to overflowing sizes", function() return actrun.zeros(0):view(0, 1 << 62, 1 << 62) end, "Tensor:view", "too large"},
  {"expand to 2^80 elements", function() return actrun.zeros(1):expand(1 << 40, 1 << 40) end, "Tensor:expand", "{1099511627776,1099511627776}"},
  {"index math.mininteger", function() return x:get(math.mininteger, 1) end, "Tensor:get", "out of range"},
  {"select math.mininteger", function() return x:select(1, math.mininteger) end, "Tensor:select", "out of range"},
  {"set math.mininteger", function() return x:clone():set(1, math.mininteger, 0) end, "Tensor:set", "out of range"},
  {"stack of 8-D tensors", function() local t = actrun.zeros(1, 1, 1, 1, 1, 1, 1, 1) return actrun.stack({t, t}, 1) end, "actrun.stack", "8"},
}

for _, c in ipairs(CASES) do
  T.test(c[1], function()
    T.expect_error(c[2], table.unpack(c, 3))
  end)
end

-- fuzz_lua_api found a leak: a tensor with a history whose .grad held it through that
-- history (itself, or a result computed from it) was never freed.
T.test("a .grad that holds its tensor through its history is freed with it (fuzzer regression)", function()
  collectgarbage()
  collectgarbage()
  local live = actrun.memory().live
  -- (y.grad = y itself is refused now: test_same_tensor.lua)
  for _, assign in ipairs({
    function(y) y.grad = y * 2 end,
    function(y) y.grad = y:exp():sin() end,
  }) do
    for _ = 1, 3 do
      local l = actrun.ones(64)
      l.requires_grad = true
      local y = l:exp()
      assign(y)
      T.truthy(actrun.is_tensor(y.grad), "the .grad was set")
    end
  end
  collectgarbage()
  collectgarbage()
  T.eq(actrun.memory().live, live, "live tensor bytes")
end)

T.test("after the whole catalogue the interpreter and the inputs are intact", function()
  T.eq(x:totable(), x_before, "x")
  T.eq(lin.weight:totable(), lin_before, "the Linear's weight")
  actrun.manual_seed(1)
  local m = nn.mlp{3, 8, 2}
  local opt = optim.Adam(m:parameters(), {lr = 0.01})
  local first, last
  for i = 1, 30 do
    opt:zero_grad()
    local loss = nn.cross_entropy(m(x), y4)
    loss:backward()
    opt:step()
    if i == 1 then first = loss:item() end
    last = loss:item()
  end
  T.truthy(last < first, "training still lowers the loss")
  T.eq(actrun.get_num_threads() >= 1, true)
end)

os.execute("rm -rf '" .. tmp .. "'")
T.done()
