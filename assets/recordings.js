// A recording that cannot load (gone, refused, not audio) says so instead of a silent player.
// Media errors do not bubble, so one capturing listener on the document sees every player,
// including those a callback draws later.
(function () {
  document.addEventListener(
    "error",
    function (event) {
      const audio = event.target;
      if (!(audio instanceof HTMLMediaElement) || !audio.classList.contains("recording-player")) {
        return;
      }
      const box = audio.closest(".recording-audio");
      const message = box && box.querySelector(".recording-error");
      if (message) {
        audio.hidden = true;
        message.hidden = false;
      }
    },
    true
  );
})();
