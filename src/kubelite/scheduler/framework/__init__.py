"""The scheduling framework: `Status`, typed `CycleState`, the extension-point Protocols and the runtime."""
