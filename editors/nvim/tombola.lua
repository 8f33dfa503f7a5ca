-- tombola lsp for campaign files (*.yaml in a campaigns folder) and scenario
-- files (*.test.yaml). Load it from init.lua (`dofile("/path/to/tombola.lua")`)
-- or copy it there. Set vim.g.tombola_path to use a binary that is not on PATH.
--
-- Neovim 0.8 and later have vim.lsp.start, which reuses a running client with
-- the same name and root. Debian 12 ships Neovim 0.7, which does not, so there
-- the one client is started by hand and each buffer attached to it.

local function is_tombola_file(path)
  return path:match("%.test%.yaml$") ~= nil or path:match("/campaigns/[^/]+%.yaml$") ~= nil
end

local function config(path)
  return {
    name = "tombola",
    cmd = { vim.g.tombola_path or "tombola", "lsp" },
    -- The server reads one file at a time, so the root only groups buffers.
    root_dir = vim.fn.fnamemodify(path, ":h"),
    on_attach = function(_, bufnr)
      -- <C-x><C-o> in insert mode asks the server for completion.
      vim.bo[bufnr].omnifunc = "v:lua.vim.lsp.omnifunc"
    end,
  }
end

local client_id -- the client started on Neovim 0.7

vim.api.nvim_create_autocmd("FileType", {
  pattern = "yaml",
  callback = function(args)
    local path = vim.api.nvim_buf_get_name(args.buf)
    if not is_tombola_file(path) then
      return
    end
    if vim.lsp.start then
      vim.lsp.start(config(path), { bufnr = args.buf })
      return
    end
    if client_id == nil or vim.lsp.get_client_by_id(client_id) == nil then
      client_id = vim.lsp.start_client(config(path))
    end
    vim.lsp.buf_attach_client(args.buf, client_id)
  end,
})
