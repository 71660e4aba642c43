-- actrun.dist under mpirun (tests/dist/run_mpi.sh runs it with -np 2, and once without
-- mpirun, where it must pass as one rank). Every rank runs every test; the failure count
-- is summed over the ranks, and rank 0 prints the total.
local actrun = rawget(_G, "actrun") or require "actrun"
local dist = require "actrun.dist"
local lab, nn, optim, data = actrun.lab, actrun.nn, actrun.optim, actrun.data

local rank, size = dist.rank(), dist.size()
local expect_size = tonumber(os.getenv("ACTRUN_TEST_EXPECT_SIZE") or "")
local passed, failed = 0, 0

local function check(cond, msg)
  if not cond then error(msg or "check failed", 2) end
end
local function near(a, b, tol, what)
  if math.abs(a - b) > tol then
    error(string.format("%s: %.9g vs %.9g (tolerance %g)", what or "near", a, b, tol), 2)
  end
end

local function test(name, fn)
  local ok, err = xpcall(fn, debug.traceback)
  if ok then
    passed = passed + 1
  else
    failed = failed + 1
    io.stderr:write(string.format("[rank %d] not ok - %s\n  %s\n", rank, name, err))
  end
  -- keep the ranks in step: a failed test must not leave one rank in a collective
  dist.barrier()
end

test("rank and size", function()
  check(math.type(rank) == "integer" and math.type(size) == "integer")
  check(rank >= 0 and rank < size)
  if expect_size then check(size == expect_size, "size " .. size .. ", expected " .. expect_size) end
  local info = dist.info()
  check(info.size == size and info.rank == rank)
  check(info.active == (size > 1) or size == 1)
end)

test("allreduce sum, mean, max, min on tensors, in place", function()
  local t = actrun.tensor{{rank + 1, -rank}, {10 * rank, 0.5}}
  local r = dist.allreduce(t, "sum")
  check(rawequal(r, t), "returns t")
  local s1 = size * (size + 1) / 2
  near(t:get(1, 1), s1, 0, "sum")
  near(t:get(1, 2), -(size - 1) * size / 2, 0, "sum neg")
  near(t:get(2, 2), 0.5 * size, 0, "sum const")
  local m = dist.allreduce(actrun.tensor{rank, 3}, "mean")
  near(m:get(1), (size - 1) / 2, 1e-6, "mean")
  near(m:get(2), 3, 1e-6, "mean const")
  local x = dist.allreduce(actrun.tensor{rank, -rank}, "max")
  near(x:get(1), size - 1, 0, "max")
  near(x:get(2), 0, 0, "max neg")
  local n = dist.allreduce(actrun.tensor{rank}, "min")
  near(n:get(1), 0, 0, "min")
  -- default op is sum; an empty tensor is fine
  near(dist.allreduce(actrun.ones(3)):get(3), size, 0, "default sum")
  check(dist.allreduce(actrun.zeros(0)):numel() == 0)
  -- a big tensor (several MiB)
  local big = actrun.full({1000, 1000}, rank + 1)
  dist.allreduce(big, "sum")
  near(big:sum():item(), 1e6 * s1, 1e-3 * 1e6 * s1, "big sum")
end)

test("allreduce on a Lua array of numbers (doubles)", function()
  local t = {rank + 0.25, 1e-12 * (rank + 1), 2 ^ 40 + rank}
  local r = dist.allreduce(t, "sum")
  check(rawequal(r, t))
  near(t[1], size * (size - 1) / 2 + 0.25 * size, 0, "sum")
  near(t[2], 1e-12 * size * (size + 1) / 2, 1e-24, "small doubles kept")
  near(t[3], size * 2 ^ 40 + size * (size - 1) / 2, 0, "big doubles kept")
  local mx = dist.allreduce({rank}, "max")
  check(mx[1] == size - 1)
end)

test("allreduce errors name the function and argument", function()
  local ok, err = pcall(dist.allreduce, actrun.zeros(3, 4):t(), "sum")
  check(not ok and err:find("actrun.dist.allreduce: argument #1 %(t%) is a non%-contiguous view"), err)
  ok, err = pcall(dist.allreduce, actrun.zeros(2), "avg")
  check(not ok and err:find("actrun.dist.allreduce: argument #2 %(op%)") and err:find("avg"), err)
  ok, err = pcall(dist.allreduce, "x")
  check(not ok and err:find("actrun.dist.allreduce: argument #1 %(t%)"), err)
  ok, err = pcall(dist.allreduce, {1, "two"})
  check(not ok and err:find("entry 2 is string"), err)
end)

test("broadcast from every root", function()
  for root = 0, size - 1 do
    local t = actrun.tensor{rank, rank * 2, 7}
    check(rawequal(dist.broadcast(t, root), t))
    near(t:get(1), root, 0, "bcast")
    near(t:get(2), 2 * root, 0, "bcast")
  end
  local d = actrun.tensor{rank + 5}
  dist.broadcast(d) -- root defaults to 0
  near(d:item(), 5, 0, "default root")
  local ok, err = pcall(dist.broadcast, actrun.zeros(2), size)
  check(not ok and err:find("actrun.dist.broadcast: argument #2 %(root%) is " .. size), err)
  ok, err = pcall(dist.broadcast, actrun.zeros(2, 3):t(), 0)
  check(not ok and err:find("non%-contiguous"), err)
  ok, err = pcall(dist.broadcast, {1}, 0)
  check(not ok and err:find("actrun.dist.broadcast: argument #1 %(t%)"), err)
end)

test("an MPI error becomes a Lua error", function()
  -- (with 2 ranks only: with more, rank 1 would not pass the message on and the others
  -- would wait for it; after an MPI error a collective is not to be trusted)
  if size ~= 2 then return end
  -- rank 1 expects 2 values where root 0 sends 4: MPI reports a truncation there
  local t = rank == 0 and actrun.ones(4) or actrun.zeros(2)
  local ok, err = pcall(dist.broadcast, t, 0)
  if rank == 0 then
    check(ok, err)
  elseif rank == 1 then
    check(not ok and err:find("^actrun.dist.broadcast: MPI error") and err:find("TRUNCATE"), err)
  end
end)

test("barrier", function()
  for _ = 1, 3 do dist.barrier() end
end)

test("gather_rows: mixed plain values, rank order, on rank 0 only", function()
  local mine = {}
  for i = 1, rank + 1 do
    mine[i] = {rank = rank, i = i, x = 0.1 * i, big = 2 ^ 53, name = "r" .. rank .. "é\0z",
      ok = i % 2 == 0, list = {1, "two", {three = 3.5}}, [7] = "seven", nan = 0 / 0}
  end
  local all = dist.gather_rows(mine)
  local empty = dist.gather_rows({}) -- an empty list from everyone
  if rank ~= 0 then
    check(all == nil and empty == nil, "nil on the other ranks")
    return
  end
  check(type(empty) == "table" and #empty == 0)
  check(#all == size * (size + 1) / 2, "count " .. #all)
  local k = 0
  for r = 0, size - 1 do
    for i = 1, r + 1 do
      k = k + 1
      local row = all[k]
      check(row.rank == r and row.i == i, "order")
      check(math.type(row.i) == "integer" and math.type(row.x) == "float")
      check(row.x == 0.1 * i, "doubles exact")
      check(row.big == 2 ^ 53 and row.name == "r" .. r .. "é\0z")
      check(row.ok == (i % 2 == 0) and row[7] == "seven" and row.nan ~= row.nan)
      check(row.list[2] == "two" and row.list[3].three == 3.5)
    end
  end
end)

test("gather_rows on other ranks for an empty list, and errors", function()
  local r = dist.gather_rows({})
  check((rank == 0 and #r == 0) or (rank ~= 0 and r == nil))
  local ok, err = pcall(dist.gather_rows, {{t = actrun.zeros(2)}})
  check(not ok and err:find("actrun.dist.gather_rows: argument #1 %(rows%)%[1%]%.t is a tensor"), err)
  local cyc = {}
  cyc.self = cyc
  ok, err = pcall(dist.gather_rows, {cyc})
  check(not ok and err:find("contains itself"), err)
  ok, err = pcall(dist.gather_rows, "rows")
  check(not ok and err:find("expected a list"), err)
  ok, err = pcall(dist.gather_rows, {print})
  check(not ok and err:find("is a function"), err)
end)

test("allgather_rows and broadcast_value: the same on every rank", function()
  local all = dist.allgather_rows({{rank = rank}, {rank = rank, second = true}})
  check(#all == 2 * size)
  for r = 0, size - 1 do
    check(all[2 * r + 1].rank == r and all[2 * r + 2].second)
  end
  local v = dist.broadcast_value({from = rank, list = {1, 2}}, size - 1)
  check(v.from == size - 1 and v.list[2] == 2)
end)

-- data parallel training
local X, y = data.blobs{n = 203, classes = 3, seed = 4}
local function model()
  actrun.manual_seed(11)
  return nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 16), nn.ReLU(),
    nn.Linear(16, 3))
end

test("train {distributed=true}: N ranks of batch b equal one process of batch N x b", function()
  local b = 16
  -- the single-process reference, on every rank
  local one = model()
  local h1 = lab.train(one, {X = X, y = y}, {epochs = 3, batch = b * size, seed = 5,
    progress = false, optimizer = optim.SGD(one:parameters(), {lr = 0.1, momentum = 0.9})})
  local m = model()
  if rank > 0 then -- a different start: the broadcast from rank 0 must fix it
    actrun.no_grad(function() m[1].weight:fill(0.5) end)
  end
  -- count the collectives: one allreduce of the flat gradient per step
  local calls, real = 0, dist.allreduce
  dist.allreduce = function(t, op)
    if actrun.is_tensor(t) then calls = calls + 1 end
    return real(t, op)
  end
  local ok, h = pcall(lab.train, m, {X = X, y = y}, {epochs = 3, batch = b, seed = 5,
    progress = false, distributed = true,
    optimizer = optim.SGD(m:parameters(), {lr = 0.1, momentum = 0.9})})
  dist.allreduce = real
  check(ok, h)
  if size > 1 then
    local steps = 3 * ((203 + b * size - 1) // (b * size))
    check(calls == steps, "allreduce calls " .. calls .. ", steps " .. steps)
  end
  for e = 1, 3 do
    near(h[e].loss, h1[e].loss, 1e-5 * math.max(1, h1[e].loss), "epoch " .. e .. " loss")
    near(h[e].accuracy, h1[e].accuracy, 1e-9, "epoch " .. e .. " accuracy")
  end
  local ps, p1 = m:parameters(), one:parameters()
  for i = 1, #ps do
    local d = (ps[i]:detach() - p1[i]:detach()):abs():max():item()
    check(d < 1e-4, "parameter " .. i .. " differs from one process by " .. d)
  end
  -- replicas identical: max over ranks of |p - p_rank0| is 0
  for i, p in ipairs(ps) do
    local p0 = p:detach():clone()
    dist.broadcast(p0, 0)
    local diff = dist.allreduce((p:detach() - p0):abs():contiguous(), "max"):max():item()
    check(diff == 0, "parameter " .. i .. " differs across ranks by " .. diff)
  end
end)

test("train {distributed=true} with Adam and a last batch smaller than the ranks", function()
  local Xs, ys = X:narrow(1, 1, 37), y:narrow(1, 1, 37) -- 37 = 2 x 16 + 5; at 3 ranks too
  local one = model()
  local h1 = lab.train(one, {X = Xs, y = ys}, {epochs = 2, batch = 8 * size, seed = 2,
    progress = false, optimizer = optim.Adam(one:parameters(), {lr = 1e-2})})
  local m = model()
  local h = lab.train(m, {X = Xs, y = ys}, {epochs = 2, batch = 8, seed = 2, progress = false,
    distributed = true, optimizer = optim.Adam(m:parameters(), {lr = 1e-2})})
  for e = 1, 2 do near(h[e].loss, h1[e].loss, 1e-5, "loss") end
  for i, p in ipairs(m:parameters()) do
    local d = (p:detach() - one:parameters()[i]:detach()):abs():max():item()
    check(d < 1e-4, "parameter " .. i .. " differs by " .. d)
  end
end)

test("compare: runs spread over the ranks, full ordered rows everywhere, rank 0 prints", function()
  local Xc, yc = data.blobs{n = 90, classes = 3, seed = 1}
  local acts = {"relu", "tanh", "elu", "sigmoid", "identity"}
  local function spec(quiet)
    return {activations = acts, seeds = 2, epochs = 2, batch = 30, quiet = quiet,
      progress = true,
      model = function(a) return nn.mlp{2, 6, 3, activation = a} end,
      data = {train = {X = Xc, y = yc}, test = {X = Xc, y = yc}}}
  end
  -- capture what this rank writes to stdout and stderr
  local out, err = {}, {}
  local so, se = io.stdout, io.stderr
  local function sink(buf)
    return {write = function(self, ...)
      for _, s in ipairs{...} do buf[#buf + 1] = tostring(s) end
      return self
    end, flush = function() end, setvbuf = function() end}
  end
  io.stdout, io.stderr = sink(out), sink(err)
  local ok, rows = pcall(lab.compare, spec(false))
  io.stdout, io.stderr = so, se
  check(ok, rows)
  local text = table.concat(out)
  if rank == 0 then
    check(text:find("rank +activation +test accuracy"), "rank 0 prints the table:\n" .. text)
    check(table.concat(err):find("epoch 2/2"), "rank 0 shows progress")
  else
    check(text == "", "rank " .. rank .. " printed:\n" .. text)
    check(table.concat(err) == "", "rank " .. rank .. " wrote to stderr")
  end
  check(#rows == #acts * 2)
  -- the same rows as one process, in order, identical on every rank
  local k = 0
  for _, a in ipairs(acts) do
    for seed = 1, 2 do
      k = k + 1
      check(rows[k].activation == a and rows[k].seed == seed, "order")
      check(#rows[k].history == 2 and type(rows[k].test_accuracy) == "number")
    end
  end
  -- a canonical text of the rows (sorted keys, doubles in full): pairs' order differs
  -- between processes
  local function canon(v)
    if type(v) ~= "table" then
      return type(v) == "number" and string.format("%.17g", v) or tostring(v)
    end
    local keys = {}
    for k in pairs(v) do keys[#keys + 1] = k end
    table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
    local parts = {}
    for _, k in ipairs(keys) do
      parts[#parts + 1] = tostring(k) .. "=" .. canon(v[k])
    end
    return "{" .. table.concat(parts, ",") .. "}"
  end
  local mine = canon(rows)
  local all = dist.allgather_rows({mine})
  for r = 2, #all do check(all[r] == all[1], "rank " .. (r - 1) .. " rows differ from rank 0") end
  if size > 1 then
    -- one process gives the same numbers
    local dist_loaded = package.loaded["actrun.dist"]
    local solo_rows
    local fake = setmetatable({size = function() return 1 end, rank = function() return 0 end},
      {__index = dist_loaded})
    package.loaded["actrun.dist"] = fake
    solo_rows = lab.compare(spec(true))
    package.loaded["actrun.dist"] = dist_loaded
    for i, r in ipairs(rows) do
      near(r.test_loss, solo_rows[i].test_loss, 1e-12, "test loss of run " .. i)
      check(r.params == solo_rows[i].params and math.type(r.params) == "integer")
    end
  end
end)

test("search: candidates spread over the ranks, the same table as one process", function()
  local Xc, yc = data.blobs{n = 90, classes = 3, seed = 1}
  local store = dist.broadcast_value(rank == 0 and os.tmpname() or "", 0)
  if rank == 0 then os.remove(store) end
  dist.barrier()
  local function spec(file)
    return {unary = {"x", "sigmoid", "tanh"}, binary = {"mul", "max"}, seeds = 2, epochs = 2,
      batch = 30, baselines = {"relu"}, top = 2, store = file,
      model = function(a) return nn.mlp{2, 6, 3, activation = a} end,
      data = {train = {X = Xc, y = yc}, test = {X = Xc, y = yc}}}
  end
  local res, info = lab.search(spec(store))
  check(info.trained == info.candidates + 1, "every candidate and the baseline trained once")
  dist.barrier()
  if rank == 0 then
    local lines = 0
    for l in io.lines(store) do if l:find('"finished"') then lines = lines + 1 end end
    check(lines == info.candidates + 1, "rank 0 stored every candidate: " .. lines)
    os.remove(store)
  end
  local dist_loaded = package.loaded["actrun.dist"]
  local fake = setmetatable({size = function() return 1 end, rank = function() return 0 end},
    {__index = dist_loaded})
  package.loaded["actrun.dist"] = fake
  local ok, solo = pcall(lab.search, spec(nil))
  package.loaded["actrun.dist"] = dist_loaded
  check(ok, solo)
  check(#solo == #res)
  for i, r in ipairs(res) do
    check(r.expr == solo[i].expr, "order at " .. i)
    near(r.mean, solo[i].mean, 1e-12, "score of " .. r.expr)
  end
  -- evolution: its rounds do not depend on the ranks, so neither do its candidates
  local evo = spec(nil)
  evo.strategy, evo.budget, evo.population, evo.sample, evo.seed = "evolution", 5, 3, 2, 3
  evo.top, evo.baselines, evo.epochs = 0, {}, 1
  local many = lab.search(evo)
  package.loaded["actrun.dist"] = fake
  local ok2, one = pcall(lab.search, evo)
  package.loaded["actrun.dist"] = dist_loaded
  check(ok2, one)
  check(#many == 5 and #one == 5, "budget")
  for i, r in ipairs(many) do
    check(r.expr == one[i].expr, "evolution order at " .. i)
    near(r.mean, one[i].mean, 1e-12, "evolution score of " .. r.expr)
  end
end)

local t = dist.allreduce({passed, failed}, "sum")
if rank == 0 then
  print(string.format("dist (%d rank%s): %d passed, %d failed", size, size == 1 and "" or "s",
    math.tointeger(t[1]), math.tointeger(t[2])))
end
if t[2] > 0 then os.exit(1) end
