-- docs/API.md is generated from the help entries (scripts/gen_api_doc.lua): it must be in
-- step with them, and every name of the API contract must have an entry.
package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" .. package.path
local T = require "testlib"
local help = require "actrun.help"
local test, eq, truthy = T.test, T.eq, T.truthy

local here = arg[0]:match("^(.*)/") or "."
local root = os.getenv("ACTRUN_SOURCE_DIR") or (here .. "/../..")

local function quote(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end
local interpreter = T.interpreter
-- runs the generator in a child; returns stdout, stderr, exit status
local function gen(args)
  local err = os.tmpname()
  local p = assert(io.popen(quote(interpreter()) .. " " .. quote(root .. "/scripts/gen_api_doc.lua") ..
    " " .. args .. " 2>" .. quote(err), "r"))
  local out = p:read("a")
  local _, _, code = p:close()
  local f = io.open(err, "r")
  local etext = f:read("a")
  f:close()
  os.remove(err)
  return out, etext, code
end
local function read(path)
  local f = assert(io.open(path, "r"))
  local s = f:read("a")
  f:close()
  return s
end

test("docs/API.md is what the help entries generate (else: actrun scripts/gen_api_doc.lua)", function()
  local out, err, code = gen("--check")
  eq(code, 0, "gen_api_doc --check:\n" .. err)
  truthy(out:find("is up to date", 1, true), out)
end)

test("--check fails on a stale or missing file, and names the line", function()
  local doc = read(root .. "/docs/API.md")
  local tmp = os.tmpname()
  -- one entry's text changed, as after editing a doc entry without regenerating
  local stale = doc:gsub("A new tensor of that shape filled with 0%.", "filled with zeros.", 1)
  truthy(stale ~= doc, "the zeros entry is in the file")
  local f = assert(io.open(tmp, "w"))
  f:write(stale)
  f:close()
  local _, err, code = gen("--check --out " .. quote(tmp))
  eq(code, 1, "exit status on a stale file")
  truthy(err:find("out of date: line %d+") and err:find("filled with zeros.", 1, true), err)
  os.remove(tmp)
  local _, err2, code2 = gen("--check --out " .. quote(tmp))
  eq(code2, 1, "exit status on a missing file")
  truthy(err2:find("missing", 1, true), err2)
end)

test("every help entry has its heading and text in docs/API.md", function()
  help.text("actrun") -- merges the doc_*.lua entries
  local doc = read(root .. "/docs/API.md")
  local n = 0
  for _, name in ipairs(help.order) do
    truthy(doc:find("\n### `" .. name .. "`\n", 1, true), "heading of " .. name)
    truthy(doc:find(help.docs[name], 1, true), "text of " .. name)
    n = n + 1
  end
  truthy(n > 200, "entries " .. n)
  truthy(doc:find("include/actrun.h", 1, true) and doc:find("EMBEDDING.md", 1, true), "C API pointer")
  truthy(doc:find("`actrun_new`", 1, true) and doc:find("`actrun_register_activation`", 1, true),
    "C functions listed from the header")
end)

-- The names of the API contract. A name either has its own entry, or shares one (then
-- the shared entry must mention it).
local contract = {
  "actrun", "actrun.tensor", "actrun.zeros", "actrun.ones", "actrun.full", "actrun.empty",
  "actrun.rand", "actrun.randn", "actrun.range", "actrun.linspace", "actrun.eye", "actrun.cat",
  "actrun.stack", "actrun.manual_seed", "actrun.is_tensor", "actrun.matmul", "actrun.no_grad",
  "actrun.set_num_threads", "actrun.get_num_threads", "actrun.clock", "actrun.version",
  "Tensor", "Tensor:shape", "Tensor:size", "Tensor:dim", "Tensor:numel", "Tensor:get",
  "Tensor:set", "Tensor:item", "Tensor:totable", "Tensor:clone", "Tensor:contiguous",
  "Tensor:reshape", "Tensor:view", "Tensor:transpose", "Tensor:t", "Tensor:narrow",
  "Tensor:select", "Tensor:flatten", "Tensor:unsqueeze", "Tensor:squeeze", "Tensor:expand",
  "Tensor:fill", "Tensor:zero", "Tensor:copy", "Tensor:add", "Tensor:sub", "Tensor:mul",
  "Tensor:div", "Tensor:pow", "Tensor:matmul", "Tensor:exp", "Tensor:log", "Tensor:sqrt",
  "Tensor:abs", "Tensor:sin", "Tensor:cos", "Tensor:tanh", "Tensor:sigmoid", "Tensor:clamp",
  "Tensor:sign", "Tensor:floor", "Tensor:ceil", "Tensor:round", "Tensor:sum", "Tensor:mean",
  "Tensor:var", "Tensor:std", "Tensor:norm", "Tensor:max", "Tensor:min", "Tensor:argmax",
  "Tensor:gt", "Tensor:lt", "Tensor:ge", "Tensor:le", "Tensor:eq", "Tensor.requires_grad",
  "Tensor.grad", "Tensor:backward", "Tensor:detach", "Tensor:zero_grad",
  "actrun.act", "actrun.act.apply", "actrun.act.list", "actrun.act.info", "actrun.act.scalar",
  "actrun.act.define", "actrun.act.properties", "actrun.act.table", "actrun.act.plot",
  "actrun.act.softmax", "actrun.act.log_softmax",
  "actrun.nn", "actrun.nn.Linear", "actrun.nn.Sequential", "actrun.nn.Activation",
  "actrun.nn.ReLU", {"actrun.nn.Tanh", "actrun.nn.ReLU", "Tanh()"},
  {"actrun.nn.Sigmoid", "actrun.nn.ReLU", "Sigmoid()"}, {"actrun.nn.GELU", "actrun.nn.ReLU", "GELU()"},
  {"actrun.nn.SELU", "actrun.nn.ReLU", "SELU()"}, "actrun.nn.ELU", "actrun.nn.LeakyReLU",
  "actrun.nn.PReLU", "actrun.nn.Maxout", "actrun.nn.BatchNorm", "actrun.nn.LayerNorm",
  "actrun.nn.Dropout", "actrun.nn.AlphaDropout", "actrun.nn.LSTM", "actrun.nn.Residual",
  "actrun.nn.Flatten", "actrun.nn.Conv2d", "actrun.nn.MaxPool2d", "actrun.nn.mlp",
  "actrun.nn.Module.parameters", "actrun.nn.Module.named_parameters", "actrun.nn.Module.train",
  "actrun.nn.Module.eval", "actrun.nn.Module.zero_grad", "actrun.nn.Module.num_parameters",
  "actrun.nn.cross_entropy", "actrun.nn.nll", "actrun.nn.mse", "actrun.nn.bce",
  "actrun.nn.bce_with_logits", "actrun.nn.init", "actrun.nn.init.xavier_uniform",
  "actrun.nn.init.xavier_normal", "actrun.nn.init.kaiming_uniform",
  "actrun.nn.init.kaiming_normal", "actrun.nn.init.lecun_normal", "actrun.nn.init.orthogonal",
  "actrun.nn.init.normal", "actrun.nn.init.uniform", "actrun.nn.init.zeros",
  {"actrun.nn.init.ones", "actrun.nn.init.zeros", "ones(t)"},
  {"actrun.nn.init.constant", "actrun.nn.init.zeros", "constant(t, v)"}, "actrun.nn.init.gain",
  "actrun.nn.save", "actrun.nn.load",
  "actrun.optim", "actrun.optim.SGD", "actrun.optim.Adam", "actrun.optim.AdamW",
  "actrun.optim.RMSprop", "actrun.optim.Adagrad", "actrun.optim.clip_grad_norm",
  "actrun.optim.StepLR", "actrun.optim.CosineLR",
  "actrun.data", "actrun.data.fashion_mnist", "actrun.data.mnist", "actrun.data.idx",
  "actrun.data.csv", "actrun.data.xor", "actrun.data.and_gate", "actrun.data.spirals",
  "actrun.data.moons", "actrun.data.circles", "actrun.data.blobs", "actrun.data.loader",
  "actrun.lab", "actrun.lab.train", "actrun.lab.evaluate", "actrun.lab.compare",
  "actrun.lab.gradient_flow", "actrun.lab.activation_stats", "actrun.lab.depth_probe",
  "actrun.lab.signal_propagation", "actrun.lab.jacobian_spectrum", "actrun.linalg_svdvals",
  "actrun.lab.gradcheck",
  "actrun.plot", "actrun.plot.line", "actrun.plot.hist",
  "command", "repl", "help",
}
-- every activation the contract requires is an act.NAME function with its own entry
for n in ([[identity step sigmoid hard_sigmoid tanh hardtanh softsign relu relu6 leaky_relu
    prelu rrelu elu selu celu gelu gelu_tanh silu swish mish softplus logsigmoid hardswish
    tanhshrink softshrink hardshrink sin cos gaussian]]):gmatch("%S+") do
  contract[#contract + 1] = "actrun.act." .. n
end

test("every name of the API contract has a help entry", function()
  help.text("actrun")
  local missing = {}
  for _, c in ipairs(contract) do
    if type(c) == "string" then
      if not help.docs[c] then missing[#missing + 1] = c end
    else
      local shared = help.docs[c[2]]
      if not (shared and shared:find(c[3], 1, true)) then
        missing[#missing + 1] = c[1] .. " (in " .. c[2] .. ")"
      end
    end
  end
  eq(table.concat(missing, ", "), "", "contract names without an entry")
end)

test("actrun.dist, when this build has it, is documented too", function()
  local ok, dist = pcall(require, "actrun.dist")
  if not ok or type(dist) ~= "table" then return T.skip("no actrun.dist in this build") end
  help.text("actrun")
  for _, n in ipairs{"rank", "size", "allreduce", "broadcast", "barrier", "gather_rows"} do
    truthy(help.docs["actrun.dist." .. n], "entry of actrun.dist." .. n)
  end
end)

T.done()
