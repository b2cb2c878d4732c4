/**
 * A throwaway redis-server for the queue tests: a free loopback port, no persistence, stopped
 * when the tests end (also when they fail or the process exits).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import net from 'node:net'

export const needsRedis: string | false =
  spawnSync('redis-server', ['--version']).status === 0 ? false : 'redis-server is not installed (scripts/setup.sh installs it)'

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo
      server.close(() => resolve(port))
    })
    server.on('error', reject)
  })
}

async function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write('PING\r\n'))
    socket.on('data', (d) => {
      socket.destroy()
      resolve(d.toString().startsWith('+PONG'))
    })
    socket.on('error', () => resolve(false))
  })
}

export interface RedisServer {
  port: number
  url: (queue: string) => string
  stop: () => void
}

export async function startRedis(): Promise<RedisServer> {
  const port = await freePort()
  const child: ChildProcess = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', '/tmp'], {
    stdio: 'ignore',
  })
  const stop = (): void => {
    if (child.exitCode === null) child.kill('SIGKILL')
  }
  process.once('exit', stop)
  for (let i = 0; i < 100 && !(await answers(port)); i++) await new Promise((r) => setTimeout(r, 50))
  if (!(await answers(port))) {
    stop()
    throw new Error(`redis-server did not start on port ${port}`)
  }
  return { port, url: (queue) => `redis://127.0.0.1:${port}/${queue}`, stop }
}
