;; kubelite's example WASM app: greets once with its arguments, then prints a heartbeat line every
;; five seconds for ever (a long-running workload, so it suits a Deployment).
;; WASI preview 1 only; wasmtime compiles this text format directly, no wat2wasm needed.
(module
  (import "wasi_snapshot_preview1" "args_sizes_get" (func $args_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_get" (func $args_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll_oneoff (param i32 i32 i32 i32) (result i32)))
  ;; 0: counts, 16: iovec, 24: bytes written, 64: clock subscription (48 bytes), 128: event,
  ;; 200: text, 1024: argv pointers, 4096: argv strings
  (memory (export "memory") 1)
  (data (i32.const 200) "hello from kubelite wasm\n")
  (data (i32.const 240) "heartbeat\n")
  (func $write (param $text i32) (param $length i32)
    (i32.store (i32.const 16) (local.get $text))
    (i32.store (i32.const 20) (local.get $length))
    (drop (call $fd_write (i32.const 1) (i32.const 16) (i32.const 1) (i32.const 24))))
  (func $write_line (param $text i32)
    (local $length i32)
    (block $end
      (loop $scan
        (br_if $end (i32.eqz (i32.load8_u (i32.add (local.get $text) (local.get $length)))))
        (local.set $length (i32.add (local.get $length) (i32.const 1)))
        (br $scan)))
    (i32.store8 (i32.add (local.get $text) (local.get $length)) (i32.const 10))
    (call $write (local.get $text) (i32.add (local.get $length) (i32.const 1))))
  (func $sleep_five_seconds
    (i64.store (i32.const 64) (i64.const 0))          ;; userdata
    (i32.store8 (i32.const 72) (i32.const 0))         ;; tag: clock
    (i32.store (i32.const 80) (i32.const 1))          ;; clock id: monotonic
    (i64.store (i32.const 88) (i64.const 5000000000)) ;; timeout in ns
    (i64.store (i32.const 96) (i64.const 1000000))    ;; precision
    (i32.store16 (i32.const 104) (i32.const 0))       ;; flags: relative
    (drop (call $poll_oneoff (i32.const 64) (i32.const 128) (i32.const 1) (i32.const 0))))
  (func (export "_start")
    (local $index i32)
    (call $write (i32.const 200) (i32.const 25))
    (drop (call $args_sizes_get (i32.const 0) (i32.const 4)))
    (drop (call $args_get (i32.const 1024) (i32.const 4096)))
    (local.set $index (i32.const 1))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $index) (i32.load (i32.const 0))))
        (call $write_line (i32.load (i32.add (i32.const 1024) (i32.mul (local.get $index) (i32.const 4)))))
        (local.set $index (i32.add (local.get $index) (i32.const 1)))
        (br $next)))
    (loop $forever
      (call $sleep_five_seconds)
      (call $write (i32.const 240) (i32.const 10))
      (br $forever))))
