-- wrk script of bench/run: each request asks for another customer of the sample written by
-- `ura gen --sample` (lines `document,contract`). Settings come from the environment:
-- BENCH_SCENARIO, BENCH_SAMPLE, BENCH_APP, BENCH_TOKEN, and BENCH_DELAY_MS (each connection
-- waits that long between its requests: a steady load below the ceiling, whose latency is
-- what a caller sees; unset, every connection asks as fast as it can). `done` prints one
-- line `BENCH rps p50_ms p99_ms requests non2xx socket_errors` that bench/run reads.

local scenario = os.getenv("BENCH_SCENARIO") or "healthz"
local sample_file = os.getenv("BENCH_SAMPLE")
local auth = "app=" .. (os.getenv("BENCH_APP") or "bench") .. "&token=" .. (os.getenv("BENCH_TOKEN") or "")

local pace = tonumber(os.getenv("BENCH_DELAY_MS") or "")
if pace and pace > 0 then
  function delay()
    return pace
  end
end

local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("offset", threads * 7919)
end

local docs, contracts = {}, {}
local counter = 0
function init(args)
  if sample_file and sample_file ~= "" then
    for line in io.lines(sample_file) do
      local doc, contract = line:match("^([^,]+),(%d+)")
      if doc then
        docs[#docs + 1] = doc
        contracts[#contracts + 1] = contract
      end
    end
  end
  counter = offset or 0
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
end

local function ura(fn, params)
  return wrk.format("POST", "/ws/ura/" .. fn .. "/", nil, auth .. "&" .. params)
end

function request()
  counter = counter + 1
  if scenario == "healthz" then
    return wrk.format("GET", "/healthz")
  end
  local i = (counter % #docs) + 1
  local doc, contract = docs[i], contracts[i]
  if scenario == "consulta_cpf" then
    return ura("consultacliente", "cpfcnpj=" .. doc)
  elseif scenario == "consulta_contrato" then
    return ura("consultacliente", "contrato=" .. contract)
  elseif scenario == "verificaacesso" then
    return ura("verificaacesso", "contrato=" .. contract .. "&uracontato=84999990000")
  elseif scenario == "clientes" then
    return wrk.format("POST", "/api/ura/clientes/", nil, auth .. "&cpfcnpj=" .. doc)
  elseif scenario == "escrita" then
    local k = counter % 3
    if k == 0 then
      return ura("liberacaopromessa", "contrato=" .. contract .. "&uracontato=84999990000")
    elseif k == 1 then
      return ura("chamado", "contrato=" .. contract .. "&ocorrenciatipo=5&motivoos=40&setor=1")
    else
      return ura("notificacaosistema", "contrato=" .. contract .. "&uraagente=suporte&uracontato=84999990000")
    end
  end
  error("cenário desconhecido: " .. scenario)
end

function done(summary, latency, requests)
  local secs = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format("BENCH %.1f %.3f %.3f %d %d %d\n",
    summary.requests / secs,
    latency:percentile(50) / 1000,
    latency:percentile(99) / 1000,
    summary.requests,
    e.status,
    e.connect + e.read + e.write + e.timeout))
end
