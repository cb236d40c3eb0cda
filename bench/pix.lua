-- wrk script of bench/intake: PIX notices as a PSP sends them (BACEN API Pix webhook body),
-- one payment per request, to POST /webhooks/pix/{segredo}. Settings come from the
-- environment:
--   BENCH_PIX_PATH     the path, secret included (/webhooks/pix/SEGREDO)
--   BENCH_PIX_CSV      lines `txid,valor` (valor as 123.45): the invoices to pay
--   BENCH_PIX_RUN      12 digits that make this run's endToEndIds unique
--   BENCH_PIX_HORARIO  the payments' `horario` (RFC 3339)
--   BENCH_PIX_SKIP     CSV lines to skip (those an earlier run paid)
--   BENCH_PIX_THREADS  wrk's -t
--   BENCH_PIX_REPLAYS  lines `endToEndId,txid,valor,horario` already recorded; when set,
--                      BENCH_PIX_REPLAY_PCT percent of the requests (default 90) deliver
--                      one of them again, identical (an idempotent replay), the others a
--                      new payment
-- Each new notice has its own endToEndId (E + 8-digit ISPB + the run + thread + counter,
-- 32 characters as the API's); each thread pays its own slice of the CSV (after the last
-- line it starts over: the invoices are then already paid, `ja_pago`). `done` prints one line
-- `BENCH rps p50_ms p99_ms requests non2xx socket_errors ok2xx new replayed sent slots` that
-- bench/intake reads: `new` counts the 2xx answers recording a new notice, `replayed` the
-- ones answering `repetida`, `sent` the new notices sent (those still unanswered when wrk
-- stopped included), `slots` the CSV lines this run used (BENCH_PIX_SKIP of a later run,
-- so that it pays other invoices).

local path = os.getenv("BENCH_PIX_PATH") or "/webhooks/pix"
local csv_file = os.getenv("BENCH_PIX_CSV")
local run = os.getenv("BENCH_PIX_RUN") or "000000000000"
local horario = os.getenv("BENCH_PIX_HORARIO") or "2026-12-05T10:00:00-03:00"
local replay_file = os.getenv("BENCH_PIX_REPLAYS")
local replay_pct = tonumber(os.getenv("BENCH_PIX_REPLAY_PCT") or "90")

local threads = {}
function setup(thread)
  table.insert(threads, thread)
  thread:set("index", #threads)
end

-- Per-thread state (each thread has its own Lua state).
local txids, amounts = {}, {}
local replays = {}
local nthreads = 1
local skip = tonumber(os.getenv("BENCH_PIX_SKIP") or "0")
local letters = "abcdefghijklmnopqrstuvwxyz"
local marker = "a"
-- Globals, read by `done` through thread:get.
counter, sent_new, ok_new, ok_replayed, other = 0, 0, 0, 0, 0

function init(args)
  for line in io.lines(csv_file) do
    local txid, valor = line:match("^([^,]+),([%d.]+)")
    if txid then
      txids[#txids + 1] = txid
      amounts[#amounts + 1] = valor
    end
  end
  if #txids == 0 then
    error("nenhuma fatura em " .. tostring(csv_file))
  end
  if replay_file and replay_file ~= "" then
    for line in io.lines(replay_file) do
      local e2e, txid, valor, when = line:match("^([^,]+),([^,]*),([^,]+),([^,]+)")
      if e2e then
        replays[#replays + 1] = string.format(
          '{"pix":[{"endToEndId":"%s","txid":"%s","valor":"%s","horario":"%s"}]}',
          e2e, txid, valor, when)
      end
    end
  end
  nthreads = tonumber(os.getenv("BENCH_PIX_THREADS") or "1")
  marker = letters:sub(index, index)
  wrk.method = "POST"
  wrk.path = path
  wrk.headers["Content-Type"] = "application/json"
end

local function fresh()
  sent_new = sent_new + 1
  local slot = (skip + (sent_new - 1) * nthreads + index - 1) % #txids + 1
  local e2e = string.format("E99999999%s%s%010d", run, marker, counter)
  return string.format(
    '{"pix":[{"endToEndId":"%s","txid":"%s","valor":"%s","horario":"%s"}]}',
    e2e, txids[slot], amounts[slot], horario)
end

function request()
  counter = counter + 1
  local body
  if #replays > 0 and (counter % 100) < replay_pct then
    body = replays[(counter * nthreads + index - 1) % #replays + 1]
  else
    body = fresh()
  end
  return wrk.format(nil, nil, nil, body)
end

function response(status, headers, body)
  if status >= 200 and status < 300 then
    if body and body:find('"resultado":"repetida"', 1, true) then
      ok_replayed = ok_replayed + 1
    else
      ok_new = ok_new + 1
    end
  else
    other = other + 1
  end
end

function done(summary, latency, requests)
  local secs = summary.duration / 1e6
  local new, replayed, bad, sent, slots = 0, 0, 0, 0, 0
  for _, t in ipairs(threads) do
    new = new + (t:get("ok_new") or 0)
    replayed = replayed + (t:get("ok_replayed") or 0)
    bad = bad + (t:get("other") or 0)
    sent = sent + (t:get("sent_new") or 0)
    slots = math.max(slots, (t:get("sent_new") or 0) * #threads)
  end
  local e = summary.errors
  io.write(string.format("BENCH %.1f %.3f %.3f %d %d %d %d %d %d %d %d\n",
    (new + replayed) / secs,
    latency:percentile(50) / 1000,
    latency:percentile(99) / 1000,
    summary.requests,
    bad,
    e.connect + e.read + e.write + e.timeout,
    new + replayed,
    new,
    replayed,
    sent,
    slots))
end
