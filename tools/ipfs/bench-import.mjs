#!/usr/bin/env node
// Timing server for bench/storage.py: imports one file with the npm `ipfs-unixfs-importer`
// under Kubo's `ipfs add` defaults (the settings of reference-cid.mjs) on request, so the
// bench can interleave these runs with its own in one process pair.
//
// Usage: node tools/ipfs/bench-import.mjs FILE
// Reads commands from stdin, one a line: "<mode> <source>" with mode v0|v1 and source
// memory (the file's bytes, read once at start) or file (streamed from disk). Answers each
// with one JSON line {"mode", "source", "ms", "cid"}; blocks go to a black-hole blockstore,
// as the bench's own import keeps no blocks either.
import { createReadStream, readFileSync, writeSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { performance } from 'node:perf_hooks'
import { importer } from 'ipfs-unixfs-importer'
import { fixedSize } from 'ipfs-unixfs-importer/chunker'
import { balanced } from 'ipfs-unixfs-importer/layout'
import { BlackHoleBlockstore } from 'blockstore-core/black-hole'

const CHUNK_SIZE = 262144
const MAX_CHILDREN_PER_NODE = 174
const MODES = {
  v0: { cidVersion: 0, rawLeaves: false },
  v1: { cidVersion: 1, rawLeaves: true }
}

const path = process.argv[2]
if (path === undefined) {
  writeSync(2, 'usage: bench-import.mjs FILE\n')
  process.exit(2)
}
const bytes = new Uint8Array(readFileSync(path))
const blockstore = new BlackHoleBlockstore()

async function importOnce (mode, source) {
  const options = {
    ...MODES[mode],
    reduceSingleLeafToSelf: true,
    wrapWithDirectory: false,
    chunker: fixedSize({ chunkSize: CHUNK_SIZE }),
    layout: balanced({ maxChildrenPerNode: MAX_CHILDREN_PER_NODE })
  }
  const content = source === 'file' ? createReadStream(path) : bytes
  const start = performance.now()
  let root
  for await (const entry of importer([{ content }], blockstore, options)) {
    root = entry
  }
  return { ms: performance.now() - start, cid: root.cid.toString() }
}

writeSync(1, JSON.stringify({ ready: true, size: bytes.length }) + '\n')
for await (const line of createInterface({ input: process.stdin })) {
  const [mode, source] = line.trim().split(/\s+/)
  if (!(mode in MODES) || !['memory', 'file'].includes(source)) {
    writeSync(1, JSON.stringify({ error: `bad command ${JSON.stringify(line)}` }) + '\n')
    continue
  }
  const { ms, cid } = await importOnce(mode, source)
  writeSync(1, JSON.stringify({ mode, source, ms, cid }) + '\n')
}
