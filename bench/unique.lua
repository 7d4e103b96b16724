-- bench/unique.lua: wrk script for bench/run.sh. Every request is a new IDWise delivery:
-- the sample's body with a fresh eventId (UUID-shaped: run tag, wrk thread, counter), a
-- bearer token and Content-Type: application/json.
--
--   wrk ... -s bench/unique.lua URL -- TOKEN SAMPLE-FILE TAG
--
-- TAG is a number below 2^31 that differs between runs against one log. Each thread
-- counts the 200s and other replies it got and keeps the "seq" of every 200 body; done()
-- prints one line "BENCH key=value ..." with the totals, throughput and latency
-- percentiles (microseconds), and when $BENCH_ACKS names a file, appends to it the seq
-- of every 200, one a line.

local threads = {}
local nthreads = 0

function setup(thread)
	nthreads = nthreads + 1
	thread:set("tid", nthreads)
	table.insert(threads, thread)
end

-- Per thread (each has its own Lua state); globals so that done() can get them.
ok = 0
other = 0
acked = {}

local head, tail, headers, tag
local counter = 0

function init(args)
	local f, sample, s, e

	if #args < 3 then
		error("usage: wrk ... -s unique.lua URL -- TOKEN SAMPLE-FILE TAG")
	end
	f = assert(io.open(args[2], "rb"))
	sample = f:read("*a")
	f:close()
	s, e = sample:find('"eventId"%s*:%s*"[^"]*"')
	if s == nil then
		error(args[2] .. ": no eventId member")
	end
	head = sample:sub(1, s - 1)
	tail = sample:sub(e + 1)
	tag = tonumber(args[3])
	headers = {
		["Authorization"] = "Bearer " .. args[1],
		["Content-Type"] = "application/json",
	}
end

function request()
	local id

	counter = counter + 1
	id = string.format('"eventId": "%08x-%04x-4000-8000-%012x"', tag, tid, counter)
	return wrk.format("POST", nil, headers, head .. id .. tail)
end

function response(status, hdrs, body)
	local seq

	if status ~= 200 then
		other = other + 1
		return
	end
	ok = ok + 1
	seq = body and body:match('"seq":(%d+)')
	if seq then
		acked[#acked + 1] = seq
	end
end

function done(summary, latency, requests)
	local out, f, t, e, seqs
	local total_ok, total_other = 0, 0

	out = os.getenv("BENCH_ACKS")
	if out and out ~= "" then
		f = assert(io.open(out, "a"))
	end
	for _, t in ipairs(threads) do
		total_ok = total_ok + t:get("ok")
		total_other = total_other + t:get("other")
		if f then
			seqs = t:get("acked")
			if #seqs > 0 then
				f:write(table.concat(seqs, "\n"), "\n")
			end
		end
	end
	if f then
		f:close()
	end
	e = summary.errors
	io.write(string.format("BENCH requests=%d duration_us=%d rps=%.1f " ..
	    "p50_us=%d p90_us=%d p99_us=%d max_us=%d ok=%d other=%d " ..
	    "err_connect=%d err_read=%d err_write=%d err_timeout=%d bytes=%d\n",
	    summary.requests, summary.duration,
	    summary.requests / (summary.duration / 1000000),
	    latency:percentile(50), latency:percentile(90), latency:percentile(99),
	    latency.max, total_ok, total_other,
	    e.connect, e.read, e.write, e.timeout, summary.bytes))
end
