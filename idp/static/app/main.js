document.getElementById("app").textContent = "…";
