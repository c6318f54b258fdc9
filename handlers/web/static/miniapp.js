// Telegram Mini App sign-in: Telegram puts the signed initData in the URL fragment
// (#tgWebAppData=...); send it once to the server, which checks its signature and starts a
// session cookie, then reload the page that was asked for. No third-party script is needed.
(function () {
  "use strict";
  var hash = window.location.hash.slice(1);
  var initData = new URLSearchParams(hash).get("tgWebAppData");
  if (!initData) { return; }
  var note = document.getElementById("thongbao");
  if (note) { note.textContent = "Đang đăng nhập bằng tài khoản Telegram…"; }
  var body = new URLSearchParams();
  body.set("initData", initData);
  fetch(document.body.dataset.login || "dangnhap/telegram", {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: body.toString()
  }).then(function (response) {
    if (response.ok) {
      window.location.replace(window.location.pathname + window.location.search);
      return null;
    }
    return response.text();
  }).then(function (text) {
    if (text !== null && note) { note.textContent = text; }
  }).catch(function () {
    if (note) { note.textContent = "Không kết nối được máy chủ. Anh/chị thử mở lại ứng dụng."; }
  });
})();
