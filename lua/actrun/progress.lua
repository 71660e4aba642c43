-- actrun.progress: the training progress display of actrun.lab.
--
--   local bar = progress.new{label="epoch 3/10", total=469, stream=io.stderr}
--   bar:update(done, running_loss)   -- after each batch
--   bar:finish("loss 0.4123  accuracy 0.8512  1.9 s")
--
-- Three modes, chosen once per display:
--   "tty"   a single line redrawn in place (carriage return) with a bar, batches/s,
--           the running loss and the ETA, at most 10 times a second; finish() leaves
--           the final text on that line and moves to the next one
--   "lines" nothing while the epoch runs, one plain line from finish() (logs, pipes)
--   "off"   nothing at all
-- progress.mode(opt) decides: opt == false, or ACTRUN_PROGRESS=0, gives "off";
-- ACTRUN_PROGRESS=tty or =lines forces that mode; else "tty" when the stream (stderr by
-- default) is a terminal, "lines" otherwise.
local actrun = require "actrun"

local progress = {}

local REDRAW = 0.1 -- seconds between two redraws of the bar
local BAR = 24     -- characters of the bar

local function isatty(fd)
  local ok, term = pcall(require, "actrun.term_c")
  return ok and type(term) == "table" and type(term.isatty) == "function" and
    term.isatty(fd) or false
end

-- The file descriptor behind a Lua stream, for the standard ones.
local function fd_of(stream)
  if stream == io.stdout then return 1 end
  if stream == io.stderr then return 2 end
  return nil
end

function progress.mode(opt, stream)
  if opt == false then return "off" end
  local env = os.getenv("ACTRUN_PROGRESS")
  if env == "0" or env == "off" or env == "false" then return "off" end
  if env == "tty" or env == "lines" then return env end
  local fd = fd_of(stream or io.stderr)
  return fd and isatty(fd) and "tty" or "lines"
end

-- 75 -> "1:15", 3725 -> "1:02:05"
function progress.clock_text(s)
  if s ~= s or s == math.huge or s < 0 then return "?" end
  s = math.floor(s + 0.5)
  local h, m, sec = s // 3600, s % 3600 // 60, s % 60
  if h > 0 then return string.format("%d:%02d:%02d", h, m, sec) end
  return string.format("%d:%02d", m, sec)
end

local Bar = {}
Bar.__index = Bar

-- opts: label (text before the bar), total (batches in this epoch), stream (default
-- io.stderr), progress (false: off), after (batches still to come after this epoch,
-- for the ETA of the whole run).
function progress.new(opts)
  opts = opts or {}
  local stream = opts.stream or io.stderr
  local self = setmetatable({
    label = opts.label or "", total = opts.total or 0, after = opts.after or 0,
    stream = stream, mode = progress.mode(opts.progress, stream),
    t0 = actrun.clock(), last = -math.huge, width = 0,
  }, Bar)
  return self
end

function Bar:write_line(text, final)
  local pad = self.width > #text and string.rep(" ", self.width - #text) or ""
  self.stream:write("\r", text, pad, final and "\n" or "")
  self.stream:flush()
  self.width = final and 0 or #text
end

-- done: batches finished so far in this epoch; loss: the running loss (or nil).
function Bar:update(done, loss)
  if self.mode ~= "tty" then return end
  local now = actrun.clock()
  if now - self.last < REDRAW and done < self.total then return end
  self.last = now
  local elapsed = now - self.t0
  local rate = elapsed > 0 and done / elapsed or 0
  local frac = self.total > 0 and math.min(done / self.total, 1) or 0
  local filled = math.floor(frac * BAR + 0.5)
  local left = self.total - done + self.after
  local eta = rate > 0 and left / rate or math.huge
  local text = string.format("%s [%s%s] %d/%d  %.1f batch/s", self.label,
    string.rep("#", filled), string.rep(".", BAR - filled), done, self.total, rate)
  if loss then text = text .. string.format("  loss %.4f", loss) end
  text = text .. "  ETA " .. progress.clock_text(eta)
  self:write_line(text, false)
end

-- Ends the epoch's display with `text` (the label is put in front).
function Bar:finish(text)
  if self.mode == "off" then return end
  local line = self.label ~= "" and (self.label .. "  " .. text) or text
  if self.mode == "tty" then
    self:write_line(line, true)
  else
    self.stream:write(line, "\n")
    self.stream:flush()
  end
end

-- A plain message in the same stream and mode (nothing when off).
function progress.note(opt, text, stream)
  stream = stream or io.stderr
  if progress.mode(opt, stream) == "off" then return end
  stream:write(text, "\n")
  stream:flush()
end

return progress
