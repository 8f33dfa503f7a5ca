-- The Neovim configuration of the capture: editors/nvim/tombola.lua as a
-- reader would load it, and nothing of the user's own configuration.
local here = vim.fn.fnamemodify(debug.getinfo(1, "S").source:sub(2), ":p:h")
vim.g.tombola_path = os.getenv("TOMBOLA")
dofile(here .. "/../../editors/nvim/tombola.lua")
vim.opt.number = true
vim.opt.swapfile = false -- a capture left behind must not stop the next one
vim.opt.signcolumn = "yes"
vim.opt.shortmess:append("c") -- no "match 1 of 6" under the menu
-- Show the menu without inserting its first item, and keep the diagnostics
-- drawn while in insert mode, so one screen holds both.
vim.opt.completeopt = { "menuone", "noselect" }
vim.diagnostic.config({ update_in_insert = true })
