-- The comparison report rendered by a real browser: Debian's chromium, headless, with the
-- network cut off (every host name unresolvable, a dead proxy). The rendered DOM must name
-- every activation and show the intervals; screenshots at desktop and phone width must not
-- be blank. (Headless chromium renders nothing with scripting off, so the page without
-- JavaScript is checked on its source: test_report.lua, all tables and figures are plain.) Skipped, saying so, when chromium is absent
-- (scripts/test.sh installs it).
package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" .. package.path
local T = require "testlib"
local actrun = T.actrun
local test, truthy = T.test, T.truthy
local lab, nn, data, optim = actrun.lab, actrun.nn, actrun.data, actrun.optim

local function find_browser()
  for _, name in ipairs{"chromium", "chromium-browser"} do
    local p = io.popen("command -v " .. name .. " 2>/dev/null")
    local path = p:read("l")
    p:close()
    if path and path ~= "" then return path end
  end
end
local chromium = os.getenv("ACTRUN_CHROMIUM") or find_browser()
if not chromium then
  T.skip("chromium is not installed (Debian package chromium; scripts/test.sh installs it)")
end

local dir = os.tmpname()
os.remove(dir)
assert(os.execute("mkdir -p '" .. dir .. "'"))
local HTML = dir .. "/report.html"
local ACTS = {"relu", "tanh", "gelu"}

local function spirals(n, seed)
  local X, y = data.spirals{n = n, classes = 3, noise = 0.1, seed = seed}
  return {X = X, y = y}
end
local saved = io.stdout
io.stdout = {write = function(self) return self end, flush = function() end}
local ok, err = pcall(lab.compare, {activations = ACTS, seeds = 2, epochs = 2, batch = 32,
  model = function(a) return nn.mlp{2, 16, 3, activation = a} end,
  optimizer = function(p) return optim.Adam(p, {lr = 0.02}) end,
  data = {train = spirals(180, 1), test = spirals(90, 2)}, report = HTML})
io.stdout = saved
assert(ok, err)

-- chromium with no network: names resolve nowhere and the proxy is a closed port
local function run(args, out)
  local cmd = string.format("'%s' --headless=new --no-sandbox --disable-gpu " ..
    "--disable-background-networking --disable-component-update --disable-sync " ..
    "--no-first-run --disable-extensions --user-data-dir='%s/profile' " ..
    "--host-resolver-rules='MAP * ~NOTFOUND' --proxy-server=127.0.0.1:9 %s " ..
    "'file://%s' > '%s' 2> '%s/chromium.log'", chromium, dir, args, HTML, out, dir)
  local okc = os.execute(cmd)
  local f = io.open(out, "rb")
  local s = f and f:read("a") or ""
  if f then f:close() end
  return okc, s
end

local function read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

local function check_dom(dom, what)
  truthy(dom:find("<table", 1, true), what .. ": no table in the rendered DOM")
  for _, a in ipairs(ACTS) do
    truthy(dom:find(">" .. a .. "<", 1, true), what .. ": " .. a .. " not in the rendered DOM")
  end
  truthy(dom:find(" ± ", 1, true), what .. ": no mean ± CI")
  truthy(dom:find("95% CI", 1, true), what .. ": no 95% CI")
  local _, svgs = dom:gsub("<svg", "")
  truthy(svgs >= 2, what .. ": " .. svgs .. " figures rendered, expected 2")
end

test("the rendered page names every activation and shows the intervals", function()
  local okc, dom = run("--dump-dom", dir .. "/dom.html")
  truthy(okc, "chromium failed: " .. (read(dir .. "/chromium.log") or ""))
  check_dom(dom, "with JavaScript")
end)

-- A blank page of this size compresses to a few kilobytes of PNG; text and figures do not.
local function screenshot(w, h, name, extra)
  local png = dir .. "/" .. name
  local okc = run(string.format("%s --hide-scrollbars --window-size=%d,%d --screenshot='%s'",
    extra or "", w, h, png), dir .. "/shot.log")
  truthy(okc, "chromium failed: " .. (read(dir .. "/chromium.log") or ""))
  local s = read(png)
  truthy(s and s:sub(1, 8) == "\137PNG\r\n\26\n", "no PNG written at " .. png)
  truthy(#s > 40000, string.format("%s is %d bytes: a blank page?", name, #s))
end

test("a screenshot at desktop width is not blank", function() screenshot(1100, 1600, "desktop.png") end)
test("a screenshot at phone width is not blank", function() screenshot(390, 1600, "phone.png") end)


os.execute("rm -rf '" .. dir .. "'")
T.done()
