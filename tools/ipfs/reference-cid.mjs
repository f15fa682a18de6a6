#!/usr/bin/env node
// Reference CIDs for files, computed by the npm `ipfs-unixfs-importer` (an implementation
// independent of flai.storage) with Kubo's `ipfs add` defaults: fixed-size chunker of
// 262,144 bytes, balanced DAG layout with at most 174 links per node.
//
//   v0: `ipfs add`                  -> cidVersion 0, rawLeaves false, reduceSingleLeafToSelf
//   v1: `ipfs add --cid-version=1`  -> cidVersion 1, rawLeaves true,  reduceSingleLeafToSelf
//
// Usage: node tools/ipfs/reference-cid.mjs [--chunk-size=N] [--max-links=M] FILE [FILE ...]
// Prints one JSON object mapping each FILE to {"v0": "<cid>", "v1": "<cid>"}. The options
// change the chunk size and links per node (`ipfs add --chunker=size-N`, and the balanced
// layout's width) so that deep trees can be checked on small files.
import { createReadStream } from 'node:fs'
import { writeSync } from 'node:fs'
import { importer } from 'ipfs-unixfs-importer'
import { fixedSize } from 'ipfs-unixfs-importer/chunker'
import { balanced } from 'ipfs-unixfs-importer/layout'
import { MemoryBlockstore } from 'blockstore-core/memory'

let CHUNK_SIZE = 262144
let MAX_CHILDREN_PER_NODE = 174

const MODES = {
  v0: { cidVersion: 0, rawLeaves: false },
  v1: { cidVersion: 1, rawLeaves: true }
}

async function referenceCid (path, mode) {
  const options = {
    ...MODES[mode],
    reduceSingleLeafToSelf: true,
    wrapWithDirectory: false,
    chunker: fixedSize({ chunkSize: CHUNK_SIZE }),
    layout: balanced({ maxChildrenPerNode: MAX_CHILDREN_PER_NODE })
  }
  let root
  for await (const entry of importer([{ content: createReadStream(path) }], new MemoryBlockstore(), options)) {
    root = entry
  }
  return root.cid.toString()
}

const paths = []
for (const arg of process.argv.slice(2)) {
  const option = /^--(chunk-size|max-links)=([1-9][0-9]*)$/.exec(arg)
  if (option === null) {
    paths.push(arg)
  } else if (option[1] === 'chunk-size') {
    CHUNK_SIZE = Number(option[2])
  } else {
    MAX_CHILDREN_PER_NODE = Number(option[2])
  }
}
if (paths.length === 0) {
  writeSync(2, 'usage: reference-cid.mjs [--chunk-size=N] [--max-links=M] FILE [FILE ...]\n')
  process.exit(2)
}
const result = {}
for (const path of paths) {
  result[path] = { v0: await referenceCid(path, 'v0'), v1: await referenceCid(path, 'v1') }
}
writeSync(1, JSON.stringify(result) + '\n')
