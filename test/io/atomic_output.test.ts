// Temporary outputs for ffmpeg: named and moved into place by lib/durable_file.ts, the extension kept.
import assert from 'node:assert/strict'
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import { after, describe, it } from 'node:test'
import { createTempFile, createTempSequence } from '../../lib/io/atomic_output.js'
import { tempDir } from './helpers.js'

describe('atomic outputs', () => {
  const { dir, cleanup } = tempDir()
  after(cleanup)

  it('a temporary file keeps the extension (ffmpeg picks the format from it) and replaces the old file on commit', async () => {
    const dest = join(dir, 'out.mp4')
    writeFileSync(dest, 'old')
    const temp = await createTempFile(dest)
    assert.match(basename(temp.tempPath), /^\.out\.[0-9a-f]{12}\.tmp\.mp4$/)
    writeFileSync(temp.tempPath, 'new')
    assert.equal(readFileSync(dest, 'utf8'), 'old')
    await temp.commit()
    assert.equal(readFileSync(dest, 'utf8'), 'new')
    assert.deepEqual(readdirSync(dir), ['out.mp4'])
  })

  it('a discarded temporary leaves the old file and nothing else', async () => {
    const dest = join(dir, 'out.mp4')
    const temp = await createTempFile(dest)
    writeFileSync(temp.tempPath, 'half')
    await temp.discard()
    assert.equal(readFileSync(dest, 'utf8'), 'new')
    assert.deepEqual(readdirSync(dir), ['out.mp4'])
  })

  it('an image sequence is written to a temporary directory and its files moved into place on commit', async () => {
    const seqDir = join(dir, 'seq')
    mkdirSync(seqDir)
    const temp = await createTempSequence(join(seqDir, 'frame_%04d.png'))
    assert.match(basename(join(temp.tempPattern, '..')), /^\.frame_04d\.png\.[0-9a-f]{12}\.tmp$/)
    writeFileSync(temp.tempPattern.replace('%04d', '0001'), 'a')
    writeFileSync(temp.tempPattern.replace('%04d', '0002'), 'b')
    const finals = await temp.commit()
    assert.deepEqual(finals, [join(seqDir, 'frame_0001.png'), join(seqDir, 'frame_0002.png')])
    assert.deepEqual(readdirSync(seqDir), ['frame_0001.png', 'frame_0002.png'])
    assert.equal(readFileSync(finals[1] as string, 'utf8'), 'b')
  })
})
