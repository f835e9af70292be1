-- The values the cache keeps, format 1 (cache-store.ts reads and writes the
-- same layout; integers are big-endian, times are server ms).
--
-- An entry is one string: a header, then the meta (read by the app only),
-- then the body bytes, so the body is stored once, with no field overhead:
--   'E' format t0 fr sw se up us d   c1 B I6 I6 I6 I6 I6 I6 I4
--     t0 fill start (bornAt), fr fresh until, sw / se end of the
--     stale-while-revalidate / stale-if-error windows, up / us the URL's last
--     hard / soft purge times (kept in the URL's head), d fill duration
--   g       B + bytes: the URL generation a variant is bound to ('' in a head)
--   nb      B: number of tag bindings, each I2 + record key suffix, B + version
--   then    I4 meta length, meta, body (opaque here)
--
-- The head of a URL (`r:<pk>`) is its entry when its responses do not vary,
-- or else a record:
--   'R' format up us   c1 B I6 I6
--   g       B + bytes: generation; a hard purge of the URL replaces it
--   vary    the rest: JSON list of the header names its responses vary on,
--           '' when not known (a head written by a purge)
local FORMAT = 1
local ENTRY_FIXED = '>c1BI6I6I6I6I6I6I4'
local RECORD_FIXED = '>c1BI6I6'

local function serverNow()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- The header of an entry value, or nil when the value is not a format-1 entry.
local function readEntry(v)
  if not v or #v < 44 or v:sub(1, 1) ~= 'E' or v:byte(2) ~= FORMAT then
    return nil
  end
  local _, _, t0, fr, sw, se, up, us, d, pos = struct.unpack(ENTRY_FIXED, v)
  local g
  g, pos = struct.unpack('>Bc0', v, pos)
  local nb
  nb, pos = struct.unpack('>B', v, pos)
  local bindings = {}
  for i = 1, nb do
    local part, version
    part, version, pos = struct.unpack('>I2c0Bc0', v, pos)
    bindings[i] = { part, version }
  end
  return { kind = 'E', t0 = t0, fr = fr, sw = sw, se = se, up = up, us = us, d = d, g = g, bindings = bindings }
end

-- A head: an entry (see readEntry) or a record; nil when absent or of another format.
local function readHead(v)
  if not v or #v < 2 or v:byte(2) ~= FORMAT then
    return nil
  end
  if v:sub(1, 1) == 'E' then
    return readEntry(v)
  end
  if v:sub(1, 1) ~= 'R' or #v < 15 then
    return nil
  end
  local _, _, up, us, pos = struct.unpack(RECORD_FIXED, v)
  local g
  g, pos = struct.unpack('>Bc0', v, pos)
  return { kind = 'R', up = up, us = us, g = g, vary = v:sub(pos) }
end

local function packRecord(up, us, g, vary)
  return struct.pack(RECORD_FIXED .. 'Bc0', 'R', FORMAT, up, us, #g, g) .. vary
end
