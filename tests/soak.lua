-- Soak test: trains a small model for a while and checks that memory stays flat.
--
--   actrun tests/soak.lua [--minutes M] [--threads N] [--save-every K] [--leak]
--
-- Default 1 minute (the CI version); the long run is `actrun tests/soak.lua --minutes 30`.
-- Each step: forward, cross-entropy, backward, Adam; with BatchNorm, Dropout, a data
-- loader reshuffling every epoch, and every K steps an evaluation, nn.save and nn.load
-- (the model file round trip) and a tostring of the model. Every few seconds it samples
-- the process's resident memory (VmRSS in /proc/self/status), the tensor bytes alive
-- (actrun.memory) and the Lua heap, and the step rate.
--
-- Fails (exit 1) when, after the warm-up (the first 20% of the run), resident memory in
-- the last third of the run exceeds its level just after warm-up by more than 10% (plus
-- 4 MB for allocator noise), or the tensor bytes alive keep growing. The step rate of the
-- first and the last part is reported, not asserted (timings on a shared machine are
-- noise). --leak keeps 1 KB of tensors per step alive: the check must then fail (the
-- test suite runs it that way too, to show the check can fail).
local minutes, threads, save_every, leak = 1, 1, 200, false
local i = 1
while arg[i] do
  local a, v = arg[i], arg[i + 1]
  if a == "--minutes" then minutes = assert(tonumber(v), "--minutes N") i = i + 2
  elseif a == "--threads" then threads = assert(math.tointeger(tonumber(v)), "--threads N") i = i + 2
  elseif a == "--leak" then leak = true i = i + 1
  elseif a == "--save-every" then save_every = assert(math.tointeger(tonumber(v)), "--save-every K") i = i + 2
  else io.stderr:write("soak.lua: unknown argument ", a, "\n") os.exit(2) end
end
local nn, optim, data, lab = actrun.nn, actrun.optim, actrun.data, actrun.lab
actrun.set_num_threads(threads)
actrun.manual_seed(42)
io.stdout:setvbuf("line")

local function rss_mb()
  local f = io.open("/proc/self/status")
  if not f then return nil end
  local kb = f:read("a"):match("VmRSS:%s*(%d+)")
  f:close()
  return kb and tonumber(kb) / 1024
end

local X, y = data.spirals{n = 2048, classes = 4, noise = 0.1, seed = 1}
X = actrun.cat({X, X:sin(), X:cos(), X * X}, 2) -- 8 features
local model = nn.mlp{8, 128, 128, 4, activation = "gelu", norm = "batch", dropout = 0.1}
local opt = optim.Adam(model:parameters(), {lr = 1e-3})
local file = os.tmpname()

local duration = minutes * 60
local t0 = actrun.clock()
local samples = {} -- {t, rss, live, lua_kb, steps}
local steps, next_sample = 0, 0
local kept = {}
local sample_every = math.max(1, math.min(10, duration / 30))
while true do
  for xb, yb in data.loader(X, y, {batch = 64, shuffle = true}) do
    model:train()
    opt:zero_grad()
    local loss = nn.cross_entropy(model(xb), yb)
    loss:backward()
    opt:step()
    steps = steps + 1
    if leak then kept[#kept + 1] = actrun.zeros(256) end
    if steps % save_every == 0 then
      model:eval()
      local ev = lab.evaluate(model, X, y)
      assert(ev.loss == ev.loss, "the loss became NaN")
      nn.save(file, model)
      nn.load(file, model)
      local _ = tostring(model)
    end
  end
  local t = actrun.clock() - t0
  if t >= next_sample then
    collectgarbage()
    samples[#samples + 1] = {t = t, rss = rss_mb(), live = actrun.memory().live,
                             lua = collectgarbage("count"), steps = steps}
    next_sample = t + sample_every
  end
  if t >= duration then break end
end
os.remove(file)

local function window(from, to) -- samples with from <= t/duration < to
  local out = {}
  for _, s in ipairs(samples) do
    if s.t >= from * duration and s.t < to * duration + 1e-9 then out[#out + 1] = s end
  end
  return out
end
local function max_of(list, k)
  local m = -math.huge
  for _, s in ipairs(list) do if s[k] and s[k] > m then m = s[k] end end
  return m
end
local function rate(list)
  if #list < 2 then return nil end
  return (list[#list].steps - list[1].steps) / (list[#list].t - list[1].t)
end

local early, late = window(0.2, 0.45), window(0.67, 1.01)
if #early == 0 or #late == 0 then
  print("soak: too few samples for a verdict") os.exit(1)
end
local rss0, rss1 = max_of(early, "rss"), max_of(late, "rss")
local live0, live1 = max_of(early, "live"), max_of(late, "live")
local lua0, lua1 = max_of(early, "lua"), max_of(late, "lua")
local r0, r1 = rate(window(0.0, 0.34)), rate(late)
print(string.format("soak: %d steps in %.0f s, %d samples", steps, samples[#samples].t, #samples))
print(string.format("soak: resident memory %.1f MB after warm-up, %.1f MB at the end (max)", rss0, rss1))
print(string.format("soak: tensor bytes alive %d -> %d; Lua heap %.0f KB -> %.0f KB", live0, live1, lua0, lua1))
if r0 and r1 then
  print(string.format("soak: step rate %.0f/s in the first third, %.0f/s in the last (ratio %.2f; not asserted)",
    r0, r1, r1 / r0))
end
local ok = true
if rss1 > rss0 * 1.10 + 4 then
  print(string.format("soak: FAILED: resident memory grew from %.1f MB to %.1f MB", rss0, rss1)) ok = false
end
if live1 > live0 * 1.10 + (1 << 20) then
  print(string.format("soak: FAILED: tensor bytes alive grew from %d to %d", live0, live1)) ok = false
end
if lua1 > lua0 * 1.5 + 1024 then
  print(string.format("soak: FAILED: the Lua heap grew from %.0f KB to %.0f KB", lua0, lua1)) ok = false
end
print(ok and "soak: memory flat: ok" or "soak: FAILED")
os.exit(ok and 0 or 1)
