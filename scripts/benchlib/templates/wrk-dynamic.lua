local mode, link_path, xfer_path, parent, rel, size, auth, run_id
local headers_link, headers_post
local head1, head2, tail
local B = "atollbenchb0undary7d3f9a1c"
local n, phase = 0, 0
ok, links, bad = 0, 0, 0

function init(args)
  mode, link_path, xfer_path, parent, rel = args[1], args[2], args[3], args[4], args[5]
  size, auth, run_id = tonumber(args[6]), args[7], args[8]
  headers_link = { ["Authorization"] = auth }
  headers_post = { ["Content-Type"] = "multipart/form-data; boundary=" .. B }
  local CRLF = "\r\n"
  local function field(name, value)
    return "--" .. B .. CRLF .. 'Content-Disposition: form-data; name="' .. name .. '"'
      .. CRLF .. CRLF .. value .. CRLF
  end
  head1 = field("parent_dir", parent) .. field("relative_path", rel) .. field("replace", "1")
    .. "--" .. B .. CRLF .. 'Content-Disposition: form-data; name="file"; filename="'
  -- each file's bytes start with its unique name: distinct content, as real uploads have
  -- (identical bytes would measure atoll's duplicate detection instead of a durable write)
  head2 = '"' .. CRLF .. CRLF
  tail = "--" .. B .. "--" .. CRLF
end

local function xfer()
  if mode == "post" or mode == "linkpost" then
    n = n + 1
    local name = string.format("w%s-%d-%d.bin", run_id, tid, n)
    local content = name .. string.rep("a", size - #name)
    return wrk.format("POST", xfer_path .. "?ret-json=1", headers_post,
                      head1 .. name .. head2 .. content .. "\r\n" .. tail)
  end
  return wrk.format("GET", xfer_path)
end

function request()
  if mode == "linkpost" or mode == "linkget" or mode == "assetget" then
    phase = 1 - phase
    if phase == 1 then return wrk.format("GET", link_path, headers_link) end
  end
  return xfer()
end

function response(status, headers, body)
  if mode == "assetget" then
    -- the asset URL answers 302 (counted as a link); an op is the followed GET with the body
    if status == 302 then
      local loc = headers["location"] or headers["Location"]
      if loc then
        links = links + 1
        xfer_path = string.match(loc, "^https?://[^/]+(.*)$") or loc
      else
        bad = bad + 1
      end
    elseif status == 200 and #body == size then
      ok = ok + 1
    else
      bad = bad + 1
    end
    return
  end
  if status < 200 or status > 299 then
    bad = bad + 1
    return
  end
  local l = string.match(body, '"upload_link"%s*:%s*"https?://[^/"]+([^"]*)"')
    or string.match(body, '"download_link"%s*:%s*"https?://[^/"]+([^"]*)"')
  if l then
    links = links + 1
    xfer_path = l
  else
    ok = ok + 1
  end
end
