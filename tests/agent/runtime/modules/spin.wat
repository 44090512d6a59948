;; Test module: a busy loop that never returns and never calls the host.
(module
  (memory (export "memory") 1)
  (func (export "_start")
    (loop $forever (br $forever))))
